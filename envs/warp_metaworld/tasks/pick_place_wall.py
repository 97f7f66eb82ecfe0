"""pick-place-wall-v3 (``SawyerPickPlaceWallEnvV3``) on Warp: pick the puck up, lift it over the wall, place it."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


def _to_midpoint(pos: torch.Tensor, midpoint: torch.Tensor) -> torch.Tensor:
    """``norm((pos - midpoint) * (1, 1, 3))``: the height above the wall weighs three times."""
    d = pos - midpoint
    return ops.norm(torch.stack([d[:, 0], d[:, 1], d[:, 2] * 3.0], dim=-1))


class PickPlaceWallKernel(WarpTaskKernel):
    task = "pick-place-wall-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj_geom = self.geom_id("objGeom")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.sim.geom_xpos[:, self._obj_geom], self.geom_quat(self._obj_geom)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        midpoint = torch.stack([target[:, 0], torch.full_like(target[:, 0], 0.77),
                                torch.full_like(target[:, 0], 0.25)], dim=-1)  # above the wall
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        obj_to_target = ops.dist(obj, target)
        in_place_part1 = ops.tolerance(_to_midpoint(obj, midpoint), 0, _TARGET_RADIUS,
                                       _to_midpoint(obj_init_pos, midpoint), "long_tail")
        in_place_part2 = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.015, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.005)
        grasped_in_place = ops.hamacher_product(object_grasped, in_place_part1)
        lifted = (tcp_to_obj < 0.02) & (obs[:, 3] > 0) & (obj[:, 2] - 0.015 > obj_init_pos[:, 2])
        lifted_reward = torch.where(obj[:, 1] > 0.75, grasped_in_place + 1.0 + 4.0 + 3.0 * in_place_part2,
                                    grasped_in_place + 1.0 + 4.0 * in_place_part1)
        reward = torch.where(lifted, lifted_reward, grasped_in_place)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07
