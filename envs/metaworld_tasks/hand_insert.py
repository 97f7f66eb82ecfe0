"""hand-insert-v3 (``SawyerHandInsertEnvV3``): push the block into the hole in the table."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("body", "obj"))


class HandInsertKernel(TaskKernel):
    task = "hand-insert-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        if tcp_to_obj < 0.02 and obs[3] > 0:
            reward += 1.0 + 7.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS


class HandInsertWarpKernel(WarpTaskKernel):
    task = "hand-insert-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        target_to_obj = ops.dist(obj, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, ops.dist(self.attr("obj_init_pos"), target),
                                 "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = ops.hamacher_product(object_grasped, in_place)
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        reward = torch.where((tcp_to_obj < 0.02) & (obs[:, 3] > 0), reward + 1.0 + 7.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= _TARGET_RADIUS
