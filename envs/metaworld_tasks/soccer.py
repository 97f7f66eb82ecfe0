"""soccer-v3 (``SawyerSoccerEnvV3``): push the ball into the goal."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks._y_gripping_caging import y_gripping_caging_reward, y_gripping_caging_warp
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_OBJ_RADIUS = 0.013
_TARGET_RADIUS = 0.07


def _x_scaled_dist(a: list[float], b: list[float]) -> float:
    """``np.linalg.norm((a - b) * [3, 1, 1])``."""
    x, y, z = (a[0] - b[0]) * 3.0, a[1] - b[1], a[2] - b[2]
    return math.sqrt(x * x + y * y + z * z)


class SoccerKernel(TaskKernel):
    task = "soccer-v3"
    _ball = ModelId("body", "soccer_ball")

    def objects(self) -> list[float]:
        return self.body_pos(self._ball) + scalar.quat_from_xmat(self._xmat[self._ball].tolist())

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        target_to_obj = _x_scaled_dist(obj, target)
        # the margin is the ball's distance from where it started, not the goal's (zero at the first step)
        target_to_obj_init = _x_scaled_dist(obj, env.obj_init_pos.tolist())
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        goal_line = target[1] - 0.1
        if obj[1] > goal_line and abs(obj[0] - target[0]) > 0.10:
            in_place = min(max(in_place - 2 * ((obj[1] - goal_line) / (1 - goal_line)), 0.0), 1.0)
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (3 * object_grasped) + (6.5 * in_place)
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        # success uses the unscaled distance
        return float(reward), scalar.dist(obj, target) <= _TARGET_RADIUS


def _x_scaled_dist_warp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [3, 1, 1])`` per world."""
    d = a - b
    return ops.norm(torch.stack([d[:, 0] * 3.0, d[:, 1], d[:, 2]], dim=-1))


class SoccerWarpKernel(WarpTaskKernel):
    task = "soccer-v3"
    _ball = ModelId("body", "soccer_ball")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._ball), ops.quat_from_xmat(self.sim.xmat[:, self._ball])], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        target_to_obj = _x_scaled_dist_warp(obj, target)
        # the margin is the ball's distance from where it started, not the goal's (zero at the first step)
        target_to_obj_init = _x_scaled_dist_warp(obj, self.attr("obj_init_pos"))
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        goal_line = target[:, 1] - 0.1
        off_goal = (obj[:, 1] > goal_line) & ((obj[:, 0] - target[:, 0]).abs() > 0.10)
        cut = (in_place - 2 * ((obj[:, 1] - goal_line) / (1 - goal_line))).clamp(min=0.0).clamp(max=1.0)
        in_place = torch.where(off_goal, cut, in_place)
        object_grasped = y_gripping_caging_warp(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (3 * object_grasped) + (6.5 * in_place)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        # success uses the unscaled distance
        return reward, ops.dist(obj, target) <= _TARGET_RADIUS
