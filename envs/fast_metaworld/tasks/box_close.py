"""box-close-v3 (``SawyerBoxCloseEnvV3``): pick up the lid and put it on the box."""

from __future__ import annotations

import math

import numpy as np

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel


class BoxCloseKernel(TaskKernel):
    task = "box-close-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._lid = self.model.body("top_link").id

    def objects(self) -> list[float]:
        return self.body_pos(self._lid) + self.body_quat(self._lid)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        target = self.env._target_pos
        # metaworld computes the grab effort with the float32 action
        effort = np.float32(min(max(action[3], -1.0), 1.0))
        reward_grab = float(min(max((effort + np.float32(1.0)) / np.float32(2.0), 0.0), 1.0))

        qw, qx, qy, qz = obs[7:11]
        quat_error = math.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        # a strong emphasis on the lid's orientation: otherwise the agent learns to kick-flip it onto the box
        reward_quat = max(1.0 - quat_error / 0.2, 0.0)

        hand = obs[0:3]
        lid = [obs[4], obs[5], obs[6] + 0.02]
        # the floor is a funnel centred on the lid's handle: it keeps the hand from hitting the handle early
        radius = scalar.dist2(hand, lid)
        floor = 0.0 if radius <= 0.02 else 0.04 * math.log(radius - 0.02) + 0.4
        if hand[2] >= floor:
            above_floor = 1.0
        else:
            above_floor = scalar.tolerance(floor - hand[2], 0.0, 0.01, floor / 2.0, "long_tail")
        near_handle = scalar.tolerance(scalar.dist(hand, lid), 0, 0.02, 0.5, "long_tail")
        ready_to_lift = scalar.hamacher_product(above_floor, near_handle)
        error_x, error_y, error_z = target[0] - lid[0], target[1] - lid[1], 3.0 * (target[2] - lid[2])
        lifted = 0.2 * float(lid[2] > 0.04) + 0.8 * scalar.tolerance(
            math.sqrt(error_x * error_x + error_y * error_y + error_z * error_z), 0, 0.05, 0.25, "long_tail")

        reward = 2.0 * scalar.hamacher_product(reward_grab, ready_to_lift) + 8.0 * lifted
        success = scalar.dist(obs[4:7], target) < 0.08
        if success:
            reward = 10.0
        return float(reward * reward_quat), success
