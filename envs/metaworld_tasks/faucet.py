"""faucet-open-v3 / faucet-close-v3 (``SawyerFaucetOpenEnvV3`` / ``SawyerFaucetCloseEnvV3``): turn the faucet's
handle to one side or the other."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.07
_REACH_RADIUS = 0.01
# the observation reports the handle's start site, 1 cm lower, with the base's orientation
_OPEN = ObjectSpec(pos=("site", "handleStartOpen"), quat=("body", "faucetBase"), offset=(0.0, 0.0, -0.01))
_CLOSE = ObjectSpec(pos=("site", "handleStartClose"), quat=("body", "faucetBase"), offset=(0.0, 0.0, -0.01))


class _FaucetKernel(TaskKernel):
    obj_offset = (0.0, 0.0, 0.0)  # added to the observed handle position in the reward

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        off = self.obj_offset
        obj = [obs[4] + off[0], obs[5] + off[1], obs[6] + off[2]]
        target = env._target_pos.tolist()
        obj_init = env.obj_init_pos.tolist()
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(obj_init, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        tcp_to_obj_init = scalar.dist(obj_init, env.init_tcp.tolist())
        reach = scalar.tolerance(tcp_to_obj, 0, _REACH_RADIUS, abs(tcp_to_obj_init - _REACH_RADIUS), "gaussian")
        reward = (2 * reach + 3 * in_place) * 2
        if target_to_obj <= _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS


class FaucetOpenKernel(_FaucetKernel):
    task = "faucet-open-v3"
    object_spec = _OPEN
    obj_offset = (-0.04, 0.0, 0.03)


class FaucetCloseKernel(_FaucetKernel):
    task = "faucet-close-v3"
    object_spec = _CLOSE


class _FaucetWarpKernel(WarpTaskKernel):
    obj_offset = (0.0, 0.0, 0.0)  # added to the observed handle position in the reward

    def reward(self, obs, action):
        obj = obs[:, 4:7] + ops.constant(self.obj_offset, obs)
        target, obj_init = self.attr("_target_pos"), self.attr("obj_init_pos")
        target_to_obj = ops.dist(obj, target)
        target_to_obj_init = ops.dist(obj_init, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(obj_init, self.attr("init_tcp"))
        reach = ops.tolerance(tcp_to_obj, 0, _REACH_RADIUS, (tcp_to_obj_init - _REACH_RADIUS).abs(), "gaussian")
        reward = (2 * reach + 3 * in_place) * 2
        success = target_to_obj <= _TARGET_RADIUS
        return torch.where(success, torch.full_like(reward, 10.0), reward), success


class FaucetOpenWarpKernel(_FaucetWarpKernel):
    task = "faucet-open-v3"
    object_spec = _OPEN
    obj_offset = (-0.04, 0.0, 0.03)


class FaucetCloseWarpKernel(_FaucetWarpKernel):
    task = "faucet-close-v3"
    object_spec = _CLOSE
