"""window-open-v3 (``SawyerWindowOpenEnvV3``): slide the window open by its handle."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05
_HANDLE_RADIUS = 0.02
_NO_QUAT = [0.0, 0.0, 0.0, 0.0]


class WindowOpenKernel(TaskKernel):
    task = "window-open-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site("handleOpenStart").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._handle].tolist() + _NO_QUAT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        target = env._target_pos
        # metaworld reads the handle from the simulator, not from the (clipped) observation
        handle = self._site_xpos[self._handle].tolist()
        target_to_obj = abs(handle[0] - target[0])
        target_to_obj_init = abs(env.obj_init_pos[0] - target[0])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(handle, self.tcp_center())
        tcp_to_obj_init = scalar.dist(env.window_handle_pos_init, env.init_tcp)
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, abs(tcp_to_obj_init - _HANDLE_RADIUS), "long_tail")
        return 10 * scalar.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS


class WindowOpenWarpKernel(WarpTaskKernel):
    task = "window-open-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._handle = self.site_id("handleOpenStart")

    def objects(self) -> torch.Tensor:
        handle = self.site_pos(self._handle)
        return torch.cat([handle, torch.zeros_like(handle[:, :1]).expand(-1, 4)], dim=1)

    def reward(self, obs, action):
        target = self.attr("_target_pos")
        # metaworld reads the handle from the simulator, not from the (clipped) observation
        handle = self.site_pos(self._handle)
        target_to_obj = (handle[:, 0] - target[:, 0]).abs()
        target_to_obj_init = (self.attr("obj_init_pos")[:, 0] - target[:, 0]).abs()
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(handle, self.tcp_center())
        tcp_to_obj_init = ops.dist(self.attr("window_handle_pos_init"), self.attr("init_tcp"))
        reach = ops.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, (tcp_to_obj_init - _HANDLE_RADIUS).abs(), "long_tail")
        return 10 * ops.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS
