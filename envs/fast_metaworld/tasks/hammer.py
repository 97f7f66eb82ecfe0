"""hammer-v3 (``SawyerHammerEnvV3``): hammer the nail into the box."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_HANDLE_HALF_LENGTH = 0.14 / 2.0  # HAMMER_HANDLE_LENGTH / 2


class HammerKernel(TaskKernel):
    task = "hammer-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._hammer = self.model.body("hammer").id
        self._nail = self.model.body("nail_link").id
        self._nail_qpos = int(self.model.joint("NailSlideJoint").qposadr[0])
        self._qpos = self.data.qpos

    def objects(self) -> list[float]:
        return (self.body_pos(self._hammer) + self.body_quat(self._hammer) + self.body_pos(self._nail)
                + self.body_quat(self._nail))

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        target = self.env._target_pos
        hand = obs[0:3]
        hammer = obs[4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        hammer_threshed = [hand[0] if abs(hammer[0] - hand[0]) < _HANDLE_HALF_LENGTH else hammer[0], hammer[1],
                           hammer[2]]
        qw, qx, qy, qz = obs[7:11]
        quat_error = math.sqrt((qw - 1.0) ** 2 + qx * qx + qy * qy + qz * qz)
        reward_quat = max(1.0 - quat_error / 0.4, 0.0)
        reward_grab = self.gripper_caging_reward(action, hammer_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01, high_density=True)
        head = [hammer[0] + 0.16, hammer[1] + 0.06, hammer[2]]
        lifted = head[2] > 0.02
        in_place = 0.1 * float(lifted) + 0.9 * scalar.tolerance(scalar.dist(target, head), 0, 0.02, 0.2, "long_tail")
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        success = self._qpos[self._nail_qpos] > 0.09
        # the success flag alone is easy to hack: the bonus also asks for a high shaped reward
        if success and reward > 5.0:
            reward = 10.0
        return float(reward), bool(success)
