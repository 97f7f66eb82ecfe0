"""soccer-v3 (``SawyerSoccerEnvV3``) on Warp: push the ball into the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel
from envs.warp_metaworld.tasks._y_gripping_caging import y_gripping_caging_reward

_OBJ_RADIUS = 0.013
_TARGET_RADIUS = 0.07


def _x_scaled_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [3, 1, 1])`` per world."""
    d = a - b
    return ops.norm(torch.stack([d[:, 0] * 3.0, d[:, 1], d[:, 2]], dim=-1))


class SoccerKernel(WarpTaskKernel):
    task = "soccer-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._ball = self.body_id("soccer_ball")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._ball), ops.quat_from_xmat(self.sim.xmat[:, self._ball])], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        target_to_obj = _x_scaled_dist(obj, target)
        # the margin is the ball's distance from where it started, not the goal's (zero at the first step)
        target_to_obj_init = _x_scaled_dist(obj, self.attr("obj_init_pos"))
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        goal_line = target[:, 1] - 0.1
        off_goal = (obj[:, 1] > goal_line) & ((obj[:, 0] - target[:, 0]).abs() > 0.10)
        cut = (in_place - 2 * ((obj[:, 1] - goal_line) / (1 - goal_line))).clamp(min=0.0).clamp(max=1.0)
        in_place = torch.where(off_goal, cut, in_place)
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (3 * object_grasped) + (6.5 * in_place)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        # success uses the unscaled distance
        return reward, ops.dist(obj, target) <= _TARGET_RADIUS
