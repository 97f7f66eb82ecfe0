"""peg-unplug-side-v3 (``SawyerPegUnplugSideEnvV3``): grasp the peg and pull it sideways out of the box."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_OBJECT = ObjectSpec(pos=("site", "pegEnd"), quat=("body", "plug1"))


class PegUnplugSideKernel(TaskKernel):
    task = "peg-unplug-side-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        obj_to_target = scalar.dist(obj, target)
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.05, xz_thresh=0.005,
                                                    desired_gripper_effort=0.8, high_density=True)
        in_place_margin = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(obj_to_target, 0, 0.05, in_place_margin, "long_tail")
        grasp_success = tcp_opened > 0.5 and obj[0] - obj_init_pos[0] > 0.015
        reward = 2 * object_grasped
        if grasp_success and tcp_to_obj < 0.035:
            reward = 1 + 2 * object_grasped + 5 * in_place
        if obj_to_target <= 0.05:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class PegUnplugSideWarpKernel(WarpTaskKernel):
    task = "peg-unplug-side-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        obj_to_target = ops.dist(obj, target)
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.05, xz_thresh=0.005,
                                                    desired_gripper_effort=0.8, high_density=True)
        in_place = ops.tolerance(obj_to_target, 0, 0.05, ops.dist(obj_init_pos, target), "long_tail")
        grasp_success = (tcp_opened > 0.5) & (obj[:, 0] - obj_init_pos[:, 0] > 0.015)
        reward = 2 * object_grasped
        reward = torch.where(grasp_success & (tcp_to_obj < 0.035), 1 + 2 * object_grasped + 5 * in_place, reward)
        reward = torch.where(obj_to_target <= 0.05, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07
