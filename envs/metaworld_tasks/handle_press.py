"""handle-press-v3 / handle-press-side-v3 (``SawyerHandlePressEnvV3`` / ``SawyerHandlePressSideEnvV3``): press the
handle down (the two differ only in the model)."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.02
_HANDLE_RADIUS = 0.02
_HANDLE = ObjectSpec(pos=("site", "handleStart"))


class HandlePressKernel(TaskKernel):
    task = "handle-press-v3"
    object_spec = _HANDLE

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        # metaworld reads the handle from the simulator here, not from the (clipped) observation
        obj = self._object_pos.tolist()
        target = env._target_pos.tolist()
        handle_init = env._handle_init_pos.tolist()
        target_to_obj = abs(obj[2] - target[2])
        target_to_obj_init = abs(handle_init[2] - target[2])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        tcp_to_obj_init = scalar.dist(handle_init, env.init_tcp.tolist())
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, abs(tcp_to_obj_init - _HANDLE_RADIUS), "long_tail")
        success = target_to_obj <= _TARGET_RADIUS
        reward = 1.0 if success else scalar.hamacher_product(reach, in_place)
        return float(reward * 10), success


class HandlePressSideKernel(HandlePressKernel):
    task = "handle-press-side-v3"


class HandlePressWarpKernel(WarpTaskKernel):
    task = "handle-press-v3"
    object_spec = _HANDLE

    def reward(self, obs, action):
        # metaworld reads the handle from the simulator here, not from the (clipped) observation
        obj = self.site_pos(self._object_pos[1])
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


class HandlePressSideWarpKernel(HandlePressWarpKernel):
    task = "handle-press-side-v3"
