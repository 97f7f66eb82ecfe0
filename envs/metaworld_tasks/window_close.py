"""window-close-v3 (``SawyerWindowCloseEnvV3``): slide the window closed by its handle."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05
_HANDLE_RADIUS = 0.02
_NO_QUAT = [0.0, 0.0, 0.0, 0.0]


class WindowCloseKernel(TaskKernel):
    task = "window-close-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site("handleCloseStart").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._handle].tolist() + _NO_QUAT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        target = env._target_pos
        handle_init = env.window_handle_pos_init
        # metaworld reads the handle from the simulator, not from the (clipped) observation
        handle = self._site_xpos[self._handle].tolist()
        target_to_obj = abs(handle[0] - target[0])
        target_to_obj_init = abs(handle_init[0] - target[0])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(handle, self.tcp_center())
        tcp_to_obj_init = scalar.dist(handle_init, env.init_tcp)
        # unlike window-open, the reach term is gaussian
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, abs(tcp_to_obj_init - _HANDLE_RADIUS), "gaussian")
        return 10 * scalar.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS


class WindowCloseWarpKernel(WarpTaskKernel):
    task = "window-close-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._handle = self.site_id("handleCloseStart")

    def objects(self) -> torch.Tensor:
        handle = self.site_pos(self._handle)
        return torch.cat([handle, torch.zeros_like(handle[:, :1]).expand(-1, 4)], dim=1)

    def reward(self, obs, action):
        target, handle_init = self.attr("_target_pos"), self.attr("window_handle_pos_init")
        # metaworld reads the handle from the simulator, not from the (clipped) observation
        handle = self.site_pos(self._handle)
        target_to_obj = (handle[:, 0] - target[:, 0]).abs()
        target_to_obj_init = (handle_init[:, 0] - target[:, 0]).abs()
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(handle, self.tcp_center())
        tcp_to_obj_init = ops.dist(handle_init, self.attr("init_tcp"))
        # unlike window-open, the reach term is gaussian
        reach = ops.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, (tcp_to_obj_init - _HANDLE_RADIUS).abs(), "gaussian")
        return 10 * ops.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS
