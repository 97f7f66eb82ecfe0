"""push-back-v3 (``SawyerPushBackEnvV3``): push the block back to the goal."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks._y_gripping_caging import y_gripping_caging_reward, y_gripping_caging_warp
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_OBJ_RADIUS = 0.007
_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("geom", "objGeom"), quat=("geom", "objGeom"))


class PushBackKernel(TaskKernel):
    task = "push-back-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.003, x_z_success_margin=0.01)
        reward = scalar.hamacher_product(object_grasped, in_place)
        if tcp_to_obj < 0.01 and 0 < tcp_opened < 0.55 and target_to_obj_init - target_to_obj > 0.01:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= 0.07


class PushBackWarpKernel(WarpTaskKernel):
    task = "push-back-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        target_to_obj = ops.dist(obj, target)
        target_to_obj_init = ops.dist(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = y_gripping_caging_warp(self, obj, _OBJ_RADIUS, grip_extra=0.003, x_z_success_margin=0.01)
        reward = ops.hamacher_product(object_grasped, in_place)
        pushing = (tcp_to_obj < 0.01) & (0 < tcp_opened) & (tcp_opened < 0.55) & (target_to_obj_init - target_to_obj
                                                                                    > 0.01)
        reward = torch.where(pushing, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= 0.07
