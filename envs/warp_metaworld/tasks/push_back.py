"""push-back-v3 (``SawyerPushBackEnvV3``) on Warp: push the block back to the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel
from envs.warp_metaworld.tasks._y_gripping_caging import y_gripping_caging_reward

_OBJ_RADIUS = 0.007
_TARGET_RADIUS = 0.05


class PushBackKernel(WarpTaskKernel):
    task = "push-back-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj_geom = self.geom_id("objGeom")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.sim.geom_xpos[:, self._obj_geom], self.geom_quat(self._obj_geom)], dim=1)

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        target_to_obj = ops.dist(obj, target)
        target_to_obj_init = ops.dist(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.003, x_z_success_margin=0.01)
        reward = ops.hamacher_product(object_grasped, in_place)
        pushing = (tcp_to_obj < 0.01) & (0 < tcp_opened) & (tcp_opened < 0.55) & (target_to_obj_init - target_to_obj
                                                                                    > 0.01)
        reward = torch.where(pushing, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= 0.07
