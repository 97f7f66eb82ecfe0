"""handle-press-v3 / handle-press-side-v3 (``SawyerHandlePressEnvV3`` / ``SawyerHandlePressSideEnvV3``) on Warp:
press the handle down (the two differ only in the model)."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.02
_HANDLE_RADIUS = 0.02


class HandlePressKernel(WarpTaskKernel):
    task = "handle-press-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._handle = self.site_id("handleStart")

    def objects(self) -> torch.Tensor:
        handle = self.site_pos(self._handle)
        return torch.cat([handle, torch.zeros_like(handle[:, :1]).expand(-1, 4)], dim=1)

    def reward(self, obs, action):
        # metaworld reads the handle from the simulator here, not from the (clipped) observation
        obj = self.site_pos(self._handle)
        target, handle_init = self.attr("_target_pos"), self.attr("_handle_init_pos")
        target_to_obj = (obj[:, 2] - target[:, 2]).abs()
        target_to_obj_init = (handle_init[:, 2] - target[:, 2]).abs()
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(handle_init, self.attr("init_tcp"))
        reach = ops.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, (tcp_to_obj_init - _HANDLE_RADIUS).abs(), "long_tail")
        success = target_to_obj <= _TARGET_RADIUS
        reward = torch.where(success, torch.ones_like(reach), ops.hamacher_product(reach, in_place))
        return reward * 10, success


class HandlePressSideKernel(HandlePressKernel):
    task = "handle-press-side-v3"
