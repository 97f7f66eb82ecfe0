"""door-close-v3 (``SawyerDoorCloseEnvV3``): push the open door shut."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("geom", "handle"), quat=("geom", "handle"))


class DoorCloseKernel(TaskKernel):
    task = "door-close-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        tcp_to_target = scalar.dist(self.tcp_center(), target)
        obj_to_target = scalar.dist(obj, target)
        in_place_margin = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "gaussian")
        # hand_init_pos is float32; metaworld subtracts it from a float64 array, so the difference is float64
        hand_margin = scalar.dist(env.hand_init_pos.tolist(), obj) + 0.1
        hand_in_place = scalar.tolerance(tcp_to_target, 0, 0.25 * _TARGET_RADIUS, hand_margin, "gaussian")
        reward = 3 * hand_in_place + 6 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.08


class DoorCloseWarpKernel(WarpTaskKernel):
    task = "door-close-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        tcp_to_target = ops.dist(self.tcp_center(), target)
        obj_to_target = ops.dist(obj, target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(self.attr("obj_init_pos"), target),
                                 "gaussian")
        hand_margin = ops.dist(self.attr("hand_init_pos"), obj) + 0.1
        hand_in_place = ops.tolerance(tcp_to_target, 0, 0.25 * _TARGET_RADIUS, hand_margin, "gaussian")
        reward = 3 * hand_in_place + 6 * in_place
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.08
