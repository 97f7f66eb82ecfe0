"""disassemble-v3 (``SawyerNutDisassembleEnvV3``): lift the round nut off the peg."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_HANDLE_HALF_LENGTH = 0.02 / 2.0  # WRENCH_HANDLE_LENGTH / 2


class DisassembleKernel(TaskKernel):
    task = "disassemble-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._grip_site = self.model.site("RoundNut-8").id
        self._center_site = self.model.site("RoundNut").id
        self._nut = self.model.body("RoundNut").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._grip_site].tolist() + self.body_quat(self._nut)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        target = self.env._target_pos
        hand = obs[0:3]
        wrench = obs[4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        wrench_threshed = [hand[0] if abs(wrench[0] - hand[0]) < _HANDLE_HALF_LENGTH else wrench[0], wrench[1],
                           wrench[2]]
        qw, qx, qy, qz = obs[7:11]
        quat_error = math.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        reward_quat = max(1.0 - quat_error / 0.4, 0.0)
        reward_grab = self.gripper_caging_reward(action, wrench_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01, high_density=True)
        center = self._site_xpos[self._center_site].tolist()
        lifted = center[2] > 0.02
        above_target = [target[0], target[1], target[2] + 0.1]
        in_place = 0.1 * float(lifted) + 0.9 * scalar.tolerance(scalar.dist(above_target, center), 0, 0.02, 0.2,
                                                                "long_tail")
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        success = obs[6] > target[2]
        if success:
            reward = 10.0
        return float(reward), bool(success)
