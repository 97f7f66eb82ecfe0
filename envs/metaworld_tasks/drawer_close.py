"""drawer-close-v3 (``SawyerDrawerCloseEnvV3``): push the open drawer shut."""

from __future__ import annotations

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

# metaworld reads self.TARGET_RADIUS, the base class's 0.05, not the class's own _TARGET_RADIUS = 0.04
_TARGET_RADIUS = 0.05
_HANDLE_REACH_RADIUS = 0.005
# the observation reports the handle, offset from the drawer link's origin
_HANDLE = ObjectSpec(pos=("body", "drawer_link"), offset=(0.0, -0.16, 0.05))


class DrawerCloseKernel(TaskKernel):
    task = "drawer-close-v3"
    object_spec = _HANDLE

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        # lists, not numpy arrays: a numpy float64 would turn metaworld's float32 arithmetic into float64
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")

        tcp_to_obj = scalar.dist(obj, [float(v) for v in self.tcp_center()])
        tcp_to_obj_init = scalar.dist(obj_init_pos, env.init_tcp.tolist())
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_REACH_RADIUS, abs(tcp_to_obj_init - _HANDLE_REACH_RADIUS),
                                 "gaussian")
        # metaworld mixes the float32 action in: keep its rounding
        gripper_closed = min(max(0, np.float32(action[-1])), 1)
        reach = scalar.hamacher_product(reach, gripper_closed)

        reward = scalar.hamacher_product(reach, in_place)
        success = target_to_obj <= _TARGET_RADIUS + 0.015
        if success:
            reward = 1.0
        return float(reward * 10), success


class DrawerCloseWarpKernel(WarpTaskKernel):
    task = "drawer-close-v3"
    object_spec = _HANDLE

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        target_to_obj = ops.dist(obj, target)
        target_to_obj_init = ops.dist(obj_init_pos, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(obj_init_pos, self.attr("init_tcp"))
        reach = ops.tolerance(tcp_to_obj, 0, _HANDLE_REACH_RADIUS, (tcp_to_obj_init - _HANDLE_REACH_RADIUS).abs(),
                              "gaussian")
        reach = ops.hamacher_product(reach, action[:, 3].clamp(min=0, max=1))
        reward = ops.hamacher_product(reach, in_place)
        success = target_to_obj <= _TARGET_RADIUS + 0.015
        reward = torch.where(success, torch.ones_like(reward), reward)
        return reward * 10, success
