"""door-close-v3 (``SawyerDoorCloseEnvV3``) on Warp: push the open door shut."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


class DoorCloseKernel(WarpTaskKernel):
    task = "door-close-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._handle = self.geom_id("handle")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.sim.geom_xpos[:, self._handle], self.geom_quat(self._handle)], dim=1)

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
