"""soccer-v3 (``SawyerSoccerEnvV3``): push the ball into the goal."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel
from envs.fast_metaworld.tasks._y_gripping_caging import y_gripping_caging_reward

_OBJ_RADIUS = 0.013
_TARGET_RADIUS = 0.07


def _x_scaled_dist(a: list[float], b: list[float]) -> float:
    """``np.linalg.norm((a - b) * [3, 1, 1])``."""
    x, y, z = (a[0] - b[0]) * 3.0, a[1] - b[1], a[2] - b[2]
    return math.sqrt(x * x + y * y + z * z)


class SoccerKernel(TaskKernel):
    task = "soccer-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._ball = self.model.body("soccer_ball").id
        self._xmat = self.data.xmat

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
