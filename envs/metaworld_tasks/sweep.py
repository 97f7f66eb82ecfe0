"""sweep-v3 (``SawyerSweepEnvV3``): sweep the puck off the table's edge."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks._y_gripping_caging import y_gripping_caging_reward, y_gripping_caging_warp
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_OBJ_RADIUS = 0.02
_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("body", "obj"))


class SweepKernel(TaskKernel):
    task = "sweep-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        obj_to_target = scalar.dist(obj, target)
        in_place_margin = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (2 * object_grasped) + (6 * scalar.hamacher_product(object_grasped, in_place))
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= _TARGET_RADIUS


class SweepWarpKernel(WarpTaskKernel):
    task = "sweep-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        obj_to_target = ops.dist(obj, target)
        in_place_margin = ops.dist(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = y_gripping_caging_warp(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (2 * object_grasped) + (6 * ops.hamacher_product(object_grasped, in_place))
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= _TARGET_RADIUS
