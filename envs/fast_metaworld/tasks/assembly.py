"""assembly-v3 (``SawyerNutAssemblyEnvV3``): put the round nut's ring over the peg."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_HANDLE_HALF_LENGTH = 0.02 / 2.0  # WRENCH_HANDLE_LENGTH / 2


class AssemblyKernel(TaskKernel):
    task = "assembly-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._grip_site = self.model.site("RoundNut-8").id
        self._center_site = self.model.site("RoundNut").id
        self._nut = self.model.body("RoundNut").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._grip_site].tolist() + self.body_quat(self._nut)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        hand = obs[0:3]
        wrench = obs[4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        wrench_threshed = [hand[0] if abs(wrench[0] - hand[0]) < _HANDLE_HALF_LENGTH else wrench[0], wrench[1],
                           wrench[2]]
        qw, qx, qy, qz = obs[7:11]
        quat_error = math.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        reward_quat = max(1.0 - quat_error / 0.4, 0.0)
        reward_grab = self.gripper_caging_reward(action, wrench_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01, medium_density=True)
        in_place, success = self._reward_pos(self._site_xpos[self._center_site].tolist(), self.env._target_pos)
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        if success:
            reward = 10.0
        return float(reward), success

    @staticmethod
    def _reward_pos(wrench_center: list[float], target: list[float]) -> tuple[float, bool]:
        """``SawyerNutAssemblyEnvV3._reward_pos``: a 3D funnel centred on the peg."""
        error_x, error_y = target[0] - wrench_center[0], target[1] - wrench_center[1]
        radius = math.sqrt(error_x * error_x + error_y * error_y)
        success = radius < 0.02 and target[2] - wrench_center[2] > 0.0
        # once on the peg the bottleneck widens
        threshold = 0.02 if success else 0.01
        target_height = 0.02 * math.log(radius - threshold) + 0.2 if radius > threshold else 0.0
        error_z = 3.0 * (target_height - wrench_center[2])
        lifted = wrench_center[2] > 0.02 or radius < threshold
        in_place = 0.1 * float(lifted) + 0.9 * scalar.tolerance(
            math.sqrt(error_x * error_x + error_y * error_y + error_z * error_z), 0, 0.02, 0.4, "long_tail")
        return in_place, success
