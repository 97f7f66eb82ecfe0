"""basketball-v3 (``SawyerBasketballEnvV3``): pick up the ball and dunk it through the hoop."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.08


def _scaled_dist(a: list[float], b: list[float]) -> float:
    """``norm((a - b) * [1, 1, 2])``: the z error counts double."""
    x, y, z = a[0] - b[0], a[1] - b[1], 2.0 * (a[2] - b[2])
    return math.sqrt(x * x + y * y + z * z)


class BasketballKernel(TaskKernel):
    task = "basketball-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._ball = self.model.body("bsktball").id

    def objects(self) -> list[float]:
        return self.body_pos(self._ball) + self.body_quat(self._ball)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        obj_init = env.obj_init_pos
        goal = env._target_pos
        # the target is just above the hoop
        target = [goal[0], goal[1], 0.3]
        target_to_obj = _scaled_dist(obj, target)
        target_to_obj_init = _scaled_dist(obj_init, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        tcp_opened = obs[3]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.06, xz_thresh=0.005, high_density=True)
        lifted_in_hand = tcp_to_obj < 0.035 and tcp_opened > 0 and obj[2] - 0.01 > obj_init[2]
        if lifted_in_hand:
            object_grasped = 1.0
        reward = scalar.hamacher_product(object_grasped, in_place)
        if lifted_in_hand:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS
