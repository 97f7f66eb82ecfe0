"""disassemble-v3 (``SawyerNutDisassembleEnvV3``) on Warp: lift the round nut off the peg."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_HANDLE_HALF_LENGTH = 0.02 / 2.0  # WRENCH_HANDLE_LENGTH / 2


class DisassembleKernel(WarpTaskKernel):
    task = "disassemble-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._grip_site = self.site_id("RoundNut-8")
        self._center_site = self.site_id("RoundNut")
        self._nut = self.body_id("RoundNut")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._grip_site), self.body_quat(self._nut)], dim=1)

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
