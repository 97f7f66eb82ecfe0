"""drawer-close-v3 (``SawyerDrawerCloseEnvV3``): push the open drawer shut."""

from __future__ import annotations

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

# metaworld reads self.TARGET_RADIUS, the base class's 0.05, not the class's own _TARGET_RADIUS = 0.04
_TARGET_RADIUS = 0.05
_HANDLE_REACH_RADIUS = 0.005


class DrawerCloseKernel(TaskKernel):
    task = "drawer-close-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._drawer_link = self.model.body("drawer_link").id

    def objects(self) -> list[float]:
        x, y, z = self.body_pos(self._drawer_link)
        return [x, y - 0.16, z + 0.05, 0.0, 0.0, 0.0, 0.0]

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


# metaworld reads self.TARGET_RADIUS, the base class's 0.05, not the class's own _TARGET_RADIUS = 0.04


class DrawerCloseWarpKernel(WarpTaskKernel):
    task = "drawer-close-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._drawer_link = self.body_id("drawer_link")

    def objects(self) -> torch.Tensor:
        pos = self.body_pos(self._drawer_link)
        handle = torch.stack([pos[:, 0], pos[:, 1] - 0.16, pos[:, 2] + 0.05], dim=1)
        return torch.cat([handle, torch.zeros_like(pos[:, :1]).expand(-1, 4)], dim=1)

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
