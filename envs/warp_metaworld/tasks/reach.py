"""reach-v3 (``SawyerReachEnvV3``) on Warp: move the gripper's centre to the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


class ReachKernel(WarpTaskKernel):
    task = "reach-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj = self.body_id("obj")
        self._obj_geom = self.geom_id("objGeom")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._obj), self.geom_quat(self._obj_geom)], dim=1)

    def reward(self, obs, action):
        target = self.attr("_target_pos")
        tcp_to_target = ops.dist(self.tcp_center(), target)
        in_place_margin = ops.dist(self.attr("hand_init_pos"), target)
        in_place = ops.tolerance(tcp_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        return 10 * in_place, tcp_to_target <= 0.05
