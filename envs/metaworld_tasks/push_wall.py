"""push-wall-v3 (``SawyerPushWallEnvV3``): push the block around the wall to the goal."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05
_MIDPOINT_XY = (-0.05, 0.77)  # past the wall's end: the first leg of the path


def _dist_to_midpoint(pos: list[float], z: float) -> float:
    """``np.linalg.norm((pos - [-0.05, 0.77, z]) * [3, 1, 1])``."""
    x, y, dz = (pos[0] - _MIDPOINT_XY[0]) * 3.0, pos[1] - _MIDPOINT_XY[1], pos[2] - z
    return math.sqrt(x * x + y * y + dz * dz)

_OBJECT = ObjectSpec(pos=("geom", "objGeom"), quat=("geom", "objGeom"))


class PushWallKernel(TaskKernel):
    task = "push-wall-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        # the midpoint is at the block's current height, for the initial position too
        obj_to_midpoint = _dist_to_midpoint(obj, obj[2])
        obj_to_midpoint_init = _dist_to_midpoint(obj_init_pos, obj[2])
        obj_to_target = scalar.dist(obj, target)
        obj_to_target_init = scalar.dist(obj_init_pos, target)
        in_place_part1 = scalar.tolerance(obj_to_midpoint, 0, _TARGET_RADIUS, obj_to_midpoint_init, "long_tail")
        in_place_part2 = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, obj_to_target_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = 2 * object_grasped
        if tcp_to_obj < 0.02 and tcp_opened > 0:
            reward = 2.0 * object_grasped + 1.0 + 4.0 * in_place_part1
            if obj[1] > 0.75:
                reward = 2 * object_grasped + 1.0 + 4.0 + 3.0 * in_place_part2
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


def _dist_to_midpoint_warp(pos: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((pos - [-0.05, 0.77, z]) * [3, 1, 1])`` per world."""
    return ops.norm(torch.stack([(pos[:, 0] - _MIDPOINT_XY[0]) * 3.0, pos[:, 1] - _MIDPOINT_XY[1], pos[:, 2] - z],
                                dim=-1))


class PushWallWarpKernel(WarpTaskKernel):
    task = "push-wall-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        # the midpoint is at the block's current height, for the initial position too
        in_place_part1 = ops.tolerance(_dist_to_midpoint_warp(obj, obj[:, 2]), 0, _TARGET_RADIUS,
                                       _dist_to_midpoint_warp(obj_init_pos, obj[:, 2]), "long_tail")
        obj_to_target = ops.dist(obj, target)
        in_place_part2 = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = 2 * object_grasped
        near = torch.where(obj[:, 1] > 0.75, 2 * object_grasped + 1.0 + 4.0 + 3.0 * in_place_part2,
                           2.0 * object_grasped + 1.0 + 4.0 * in_place_part1)
        reward = torch.where((tcp_to_obj < 0.02) & (tcp_opened > 0), near, reward)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07
