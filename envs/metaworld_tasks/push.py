"""push-v3 (``SawyerPushEnvV3``): push the puck to the goal."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("geom", "objGeom"))


class PushKernel(TaskKernel):
    task = "push-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(env.obj_init_pos, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = 2 * object_grasped
        if tcp_to_obj < 0.02 and tcp_opened > 0:
            reward += 1.0 + reward + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS


class PushWarpKernel(WarpTaskKernel):
    task = "push-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        target_to_obj = ops.dist(obj, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, ops.dist(self.attr("obj_init_pos"), target),
                                 "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = 2 * object_grasped
        reward = torch.where((tcp_to_obj < 0.02) & (tcp_opened > 0), 1.0 + 2 * reward + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= _TARGET_RADIUS
