"""hammer-v3 (``SawyerHammerEnvV3``): hammer the nail into the box."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_HANDLE_HALF_LENGTH = 0.14 / 2.0  # HAMMER_HANDLE_LENGTH / 2


class HammerKernel(TaskKernel):
    task = "hammer-v3"
    _hammer = ModelId("body", "hammer")
    _nail = ModelId("body", "nail_link")
    _nail_qpos = ModelId("qpos", "NailSlideJoint")

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


class HammerWarpKernel(WarpTaskKernel):
    task = "hammer-v3"
    _hammer = ModelId("body", "hammer")
    _nail = ModelId("body", "nail_link")
    _nail_qpos = ModelId("qpos", "NailSlideJoint")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._hammer), self.body_quat(self._hammer), self.body_pos(self._nail),
                          self.body_quat(self._nail)], dim=1)

    def reward(self, obs, action):
        target = self.attr("_target_pos")
        hand, hammer = obs[:, 0:3], obs[:, 4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        over_handle = (hammer[:, 0] - hand[:, 0]).abs() < _HANDLE_HALF_LENGTH
        hammer_threshed = torch.cat([torch.where(over_handle, hand[:, 0], hammer[:, 0])[:, None], hammer[:, 1:]], 1)
        qw, qx, qy, qz = obs[:, 7], obs[:, 8], obs[:, 9], obs[:, 10]
        quat_error = torch.sqrt((qw - 1.0) ** 2 + qx * qx + qy * qy + qz * qz)
        reward_quat = (1.0 - quat_error / 0.4).clamp(min=0.0)
        reward_grab = self.gripper_caging_reward(action, hammer_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01, high_density=True)
        head = torch.stack([hammer[:, 0] + 0.16, hammer[:, 1] + 0.06, hammer[:, 2]], dim=1)
        lifted = head[:, 2] > 0.02
        in_place = 0.1 * lifted.to(obs.dtype) + 0.9 * ops.tolerance(ops.dist(target, head), 0, 0.02, 0.2, "long_tail")
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        success = self.sim.qpos[:, self._nail_qpos] > 0.09
        # the success flag alone is easy to hack: the bonus also asks for a high shaped reward
        return torch.where(success & (reward > 5.0), torch.full_like(reward, 10.0), reward), success
