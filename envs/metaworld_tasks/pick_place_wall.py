"""pick-place-wall-v3 (``SawyerPickPlaceWallEnvV3``): pick the puck up, lift it over the wall, place it at the goal."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


def _to_midpoint(pos, midpoint: list[float]) -> float:
    """``norm((pos - midpoint) * (1, 1, 3))``: the height above the wall weighs three times."""
    return scalar.norm([pos[0] - midpoint[0], pos[1] - midpoint[1], (pos[2] - midpoint[2]) * 3.0])

_OBJECT = ObjectSpec(pos=("geom", "objGeom"), quat=("geom", "objGeom"))


class PickPlaceWallKernel(TaskKernel):
    task = "pick-place-wall-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        midpoint = [target[0], 0.77, 0.25]  # above the wall
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        obj_to_target = scalar.dist(obj, target)
        in_place_part1 = scalar.tolerance(_to_midpoint(obj, midpoint), 0, _TARGET_RADIUS,
                                          _to_midpoint(obj_init_pos, midpoint), "long_tail")
        in_place_part2 = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, scalar.dist(obj_init_pos, target),
                                          "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.015, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.005)
        in_place_and_object_grasped = scalar.hamacher_product(object_grasped, in_place_part1)
        reward = in_place_and_object_grasped
        if tcp_to_obj < 0.02 and obs[3] > 0 and obj[2] - 0.015 > obj_init_pos[2]:
            reward = in_place_and_object_grasped + 1.0 + 4.0 * in_place_part1
            if obj[1] > 0.75:
                reward = in_place_and_object_grasped + 1.0 + 4.0 + 3.0 * in_place_part2
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


def _to_midpoint_warp(pos: torch.Tensor, midpoint: torch.Tensor) -> torch.Tensor:
    """``norm((pos - midpoint) * (1, 1, 3))``: the height above the wall weighs three times."""
    d = pos - midpoint
    return ops.norm(torch.stack([d[:, 0], d[:, 1], d[:, 2] * 3.0], dim=-1))


class PickPlaceWallWarpKernel(WarpTaskKernel):
    task = "pick-place-wall-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        midpoint = torch.stack([target[:, 0], torch.full_like(target[:, 0], 0.77),
                                torch.full_like(target[:, 0], 0.25)], dim=-1)  # above the wall
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        obj_to_target = ops.dist(obj, target)
        in_place_part1 = ops.tolerance(_to_midpoint_warp(obj, midpoint), 0, _TARGET_RADIUS,
                                       _to_midpoint_warp(obj_init_pos, midpoint), "long_tail")
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
