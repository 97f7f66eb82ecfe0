"""sweep-v3 (``SawyerSweepEnvV3``) on Warp: sweep the puck off the table's edge."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel
from envs.warp_metaworld.tasks._y_gripping_caging import y_gripping_caging_reward

_OBJ_RADIUS = 0.02
_TARGET_RADIUS = 0.05


class SweepKernel(WarpTaskKernel):
    task = "sweep-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj = self.body_id("obj")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._obj), self.body_quat(self._obj)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        obj_to_target = ops.dist(obj, target)
        in_place_margin = ops.dist(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (2 * object_grasped) + (6 * ops.hamacher_product(object_grasped, in_place))
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= _TARGET_RADIUS
