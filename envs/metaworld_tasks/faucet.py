"""faucet-open-v3 / faucet-close-v3 (``SawyerFaucetOpenEnvV3`` / ``SawyerFaucetCloseEnvV3``): turn the faucet's
handle to one side or the other."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.07
_REACH_RADIUS = 0.01


class _FaucetKernel(TaskKernel):
    handle_site = ""
    obj_offset = (0.0, 0.0, 0.0)  # added to the observed handle position in the reward

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site(self.handle_site).id
        self._base = self.model.body("faucetBase").id

    def objects(self) -> list[float]:
        x, y, z = self._site_xpos[self._handle].tolist()
        return [x, y, z - 0.01] + self.body_quat(self._base)

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
    handle_site = "handleStartOpen"
    obj_offset = (-0.04, 0.0, 0.03)


class FaucetCloseKernel(_FaucetKernel):
    task = "faucet-close-v3"
    handle_site = "handleStartClose"


class _FaucetWarpKernel(WarpTaskKernel):
    handle_site = ""
    obj_offset = (0.0, 0.0, 0.0)  # added to the observed handle position in the reward

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._handle = self.site_id(self.handle_site)
        self._base = self.body_id("faucetBase")

    def objects(self) -> torch.Tensor:
        handle = self.site_pos(self._handle)
        return torch.cat([handle[:, :2], handle[:, 2:] - 0.01, self.body_quat(self._base)], dim=1)

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
    handle_site = "handleStartOpen"
    obj_offset = (-0.04, 0.0, 0.03)


class FaucetCloseWarpKernel(_FaucetWarpKernel):
    task = "faucet-close-v3"
    handle_site = "handleStartClose"
