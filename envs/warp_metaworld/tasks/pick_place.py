"""pick-place-v3 (``SawyerPickPlaceEnvV3``) on Warp: pick the puck up and place it at the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05
_PAD_SUCCESS_MARGIN = 0.05
_XZ_SUCCESS_MARGIN = 0.005
_OBJ_RADIUS = 0.015


class PickPlaceKernel(WarpTaskKernel):
    task = "pick-place-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj = self.body_id("obj")
        self._obj_geom = self.geom_id("objGeom")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._obj), self.geom_quat(self._obj_geom)], dim=1)

    def reward(self, obs, action):
        tcp = self.tcp_center()
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        obj_to_target = ops.dist(obj, target)
        tcp_to_obj = ops.dist(obj, tcp)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = self._gripper_caging_reward(action, obj, tcp)
        reward = ops.hamacher_product(object_grasped, in_place)
        lifted = (tcp_to_obj < 0.02) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
        reward = torch.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07

    def _gripper_caging_reward(self, action, obj, tcp):
        """``SawyerPickPlaceEnvV3._gripper_caging_reward``: signed pad bounds, always high density. Its
        ``init_left_pad`` / ``init_right_pad`` are live views: the pads' current positions."""
        left_pad_y = self.sim.xpos[:, self._leftpad, 1]
        right_pad_y = self.sim.xpos[:, self._rightpad, 1]
        right_margin = ((obj[:, 1] - right_pad_y).abs() - _PAD_SUCCESS_MARGIN).abs()
        left_margin = ((obj[:, 1] - left_pad_y).abs() - _PAD_SUCCESS_MARGIN).abs()
        right_caging = ops.tolerance(obj[:, 1] - right_pad_y, _OBJ_RADIUS, _PAD_SUCCESS_MARGIN, right_margin,
                                     "long_tail")
        left_caging = ops.tolerance(left_pad_y - obj[:, 1], _OBJ_RADIUS, _PAD_SUCCESS_MARGIN, left_margin,
                                    "long_tail")
        y_caging = ops.hamacher_product(left_caging, right_caging)
        xz = [0, 2]
        xz_margin = ops.dist(self.attr("obj_init_pos")[:, xz], self.attr("init_tcp")[:, xz]) - _XZ_SUCCESS_MARGIN
        xz_caging = ops.tolerance(ops.dist(tcp[:, xz], obj[:, xz]), 0, _XZ_SUCCESS_MARGIN, xz_margin, "long_tail")
        gripper_closed = action[:, 3].clamp(min=0, max=1)
        caging = ops.hamacher_product(y_caging, xz_caging)
        gripping = torch.where(caging > 0.97, gripper_closed, torch.zeros_like(gripper_closed))
        return (ops.hamacher_product(caging, gripping) + caging) / 2
