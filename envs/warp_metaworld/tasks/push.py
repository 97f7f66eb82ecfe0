"""push-v3 (``SawyerPushEnvV3``) on Warp: push the puck to the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


class PushKernel(WarpTaskKernel):
    task = "push-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj = self.body_id("obj")
        self._obj_geom = self.geom_id("objGeom")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._obj), self.geom_quat(self._obj_geom)], dim=1)

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        target_to_obj = ops.dist(obj, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, ops.dist(self.attr("obj_init_pos"), target),
                                 "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = 2 * object_grasped
        reward = torch.where((tcp_to_obj < 0.02) & (tcp_opened > 0), 1.0 + 2 * reward + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= _TARGET_RADIUS
