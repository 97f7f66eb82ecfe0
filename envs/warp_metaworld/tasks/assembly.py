"""assembly-v3 (``SawyerNutAssemblyEnvV3``) on Warp: put the round nut's ring over the peg."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_HANDLE_HALF_LENGTH = 0.02 / 2.0  # WRENCH_HANDLE_LENGTH / 2


class AssemblyKernel(WarpTaskKernel):
    task = "assembly-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._grip_site = self.site_id("RoundNut-8")
        self._center_site = self.site_id("RoundNut")
        self._nut = self.body_id("RoundNut")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._grip_site), self.body_quat(self._nut)], dim=1)

    def reward(self, obs, action):
        hand, wrench = obs[:, 0:3], obs[:, 4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        over_handle = (wrench[:, 0] - hand[:, 0]).abs() < _HANDLE_HALF_LENGTH
        wrench_threshed = torch.cat([torch.where(over_handle, hand[:, 0], wrench[:, 0])[:, None], wrench[:, 1:]], 1)
        qw, qx, qy, qz = obs[:, 7], obs[:, 8], obs[:, 9], obs[:, 10]
        quat_error = torch.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        reward_quat = (1.0 - quat_error / 0.4).clamp(min=0.0)
        reward_grab = self.gripper_caging_reward(action, wrench_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01, medium_density=True)
        in_place, success = self._reward_pos(self.site_pos(self._center_site), self.attr("_target_pos"))
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        return torch.where(success, torch.full_like(reward, 10.0), reward), success

    @staticmethod
    def _reward_pos(wrench_center, target):
        """``SawyerNutAssemblyEnvV3._reward_pos``: a 3D funnel centred on the peg."""
        error = target - wrench_center
        radius = ops.norm(error[:, :2])
        success = (radius < 0.02) & (error[:, 2] > 0.0)
        # once on the peg the bottleneck widens
        threshold = torch.where(success, torch.full_like(radius, 0.02), torch.full_like(radius, 0.01))
        above = radius > threshold
        log_arg = torch.where(above, radius - threshold, torch.ones_like(radius))
        target_height = torch.where(above, 0.02 * torch.log(log_arg) + 0.2, torch.zeros_like(radius))
        error_z = 3.0 * (target_height - wrench_center[:, 2])
        lifted = (wrench_center[:, 2] > 0.02) | (radius < threshold)
        pos_error = torch.sqrt(error[:, 0] ** 2 + error[:, 1] ** 2 + error_z ** 2)
        in_place = 0.1 * lifted.to(radius.dtype) + 0.9 * ops.tolerance(pos_error, 0, 0.02, 0.4, "long_tail")
        return in_place, success
