"""disassemble-v3 (``SawyerNutDisassembleEnvV3``): lift the round nut off the peg."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_HANDLE_HALF_LENGTH = 0.02 / 2.0  # WRENCH_HANDLE_LENGTH / 2

_OBJECT = ObjectSpec(pos=("site", "RoundNut-8"), quat=("body", "RoundNut"))


class DisassembleKernel(TaskKernel):
    task = "disassemble-v3"
    object_spec = _OBJECT

    def __init__(self, env) -> None:
        super().__init__(env)
        self._center_site = self.model.site("RoundNut").id

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


class DisassembleWarpKernel(WarpTaskKernel):
    task = "disassemble-v3"
    object_spec = _OBJECT

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._center_site = self.site_id("RoundNut")

    def reward(self, obs, action):
        target = self.attr("_target_pos")
        hand, wrench = obs[:, 0:3], obs[:, 4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        over_handle = (wrench[:, 0] - hand[:, 0]).abs() < _HANDLE_HALF_LENGTH
        wrench_threshed = torch.cat([torch.where(over_handle, hand[:, 0], wrench[:, 0])[:, None], wrench[:, 1:]], 1)
        qw, qx, qy, qz = obs[:, 7], obs[:, 8], obs[:, 9], obs[:, 10]
        quat_error = torch.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        reward_quat = (1.0 - quat_error / 0.4).clamp(min=0.0)
        reward_grab = self.gripper_caging_reward(action, wrench_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01, high_density=True)
        center = self.site_pos(self._center_site)
        lifted = center[:, 2] > 0.02
        above_target = torch.cat([target[:, :2], target[:, 2:] + 0.1], dim=1)
        in_place = 0.1 * lifted.to(obs.dtype) + 0.9 * ops.tolerance(ops.dist(above_target, center), 0, 0.02, 0.2,
                                                                      "long_tail")
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        success = obs[:, 6] > target[:, 2]
        return torch.where(success, torch.full_like(reward, 10.0), reward), success
