"""The round-nut family: put the nut's ring over the peg (``assembly``, ``SawyerNutAssemblyEnvV3``) or lift it off
(``disassemble``, ``SawyerNutDisassembleEnvV3``).

Both rewards grasp the wrench's handle, keep the nut level and move its centre into place; they differ in where
"in place" is (:meth:`_NutKernel.in_place`) and in the grasp reward's density.
"""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_HANDLE_HALF_LENGTH = 0.02 / 2.0  # WRENCH_HANDLE_LENGTH / 2

_OBJECT = ObjectSpec(pos=("site", "RoundNut-8"), quat=("body", "RoundNut"))


class _NutKernel(TaskKernel):
    object_spec = _OBJECT
    medium_density = False  # the grasp reward's density: medium (assembly) or high (disassemble)
    _center_site = ModelId("site", "RoundNut")

    def in_place(self, center: list[float], obs: list[float]) -> tuple[float, bool]:
        """``(in_place, success)`` of the nut's centre ``center``."""
        raise NotImplementedError

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
                                                 pad_success_thresh=0.02, xz_thresh=0.01,
                                                 medium_density=self.medium_density,
                                                 high_density=not self.medium_density)
        in_place, success = self.in_place(self._site_xpos[self._center_site].tolist(), obs)
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        if success:
            reward = 10.0
        return float(reward), bool(success)


class _NutWarpKernel(WarpTaskKernel):
    object_spec = _OBJECT
    medium_density = False
    _center_site = ModelId("site", "RoundNut")

    def in_place(self, center: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(in_place, success)``, each ``(W,)``, of the nut's centres ``center`` ``(W, 3)``."""
        raise NotImplementedError

    def reward(self, obs, action):
        hand, wrench = obs[:, 0:3], obs[:, 4:7]
        # the handle is not a sphere: the caging reward sees it at the hand's x when the hand is over the handle
        over_handle = (wrench[:, 0] - hand[:, 0]).abs() < _HANDLE_HALF_LENGTH
        wrench_threshed = torch.cat([torch.where(over_handle, hand[:, 0], wrench[:, 0])[:, None], wrench[:, 1:]], 1)
        qw, qx, qy, qz = obs[:, 7], obs[:, 8], obs[:, 9], obs[:, 10]
        quat_error = torch.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        reward_quat = (1.0 - quat_error / 0.4).clamp(min=0.0)
        reward_grab = self.gripper_caging_reward(action, wrench_threshed, object_reach_radius=0.01, obj_radius=0.015,
                                                 pad_success_thresh=0.02, xz_thresh=0.01,
                                                 medium_density=self.medium_density,
                                                 high_density=not self.medium_density)
        in_place, success = self.in_place(self.site_pos(self._center_site), obs)
        reward = (2.0 * reward_grab + 6.0 * in_place) * reward_quat
        return torch.where(success, torch.full_like(reward, 10.0), reward), success


class AssemblyKernel(_NutKernel):
    task, medium_density = "assembly-v3", True

    def in_place(self, center: list[float], obs: list[float]) -> tuple[float, bool]:
        """``SawyerNutAssemblyEnvV3._reward_pos``: a 3D funnel centred on the peg."""
        target = self.env._target_pos
        error_x, error_y = target[0] - center[0], target[1] - center[1]
        radius = math.sqrt(error_x * error_x + error_y * error_y)
        success = radius < 0.02 and target[2] - center[2] > 0.0
        # once on the peg the bottleneck widens
        threshold = 0.02 if success else 0.01
        target_height = 0.02 * math.log(radius - threshold) + 0.2 if radius > threshold else 0.0
        error_z = 3.0 * (target_height - center[2])
        lifted = center[2] > 0.02 or radius < threshold
        in_place = 0.1 * float(lifted) + 0.9 * scalar.tolerance(
            math.sqrt(error_x * error_x + error_y * error_y + error_z * error_z), 0, 0.02, 0.4, "long_tail")
        return in_place, success


class AssemblyWarpKernel(_NutWarpKernel):
    task, medium_density = "assembly-v3", True

    def in_place(self, center, obs):
        """``SawyerNutAssemblyEnvV3._reward_pos``: a 3D funnel centred on the peg."""
        error = self.attr("_target_pos") - center
        radius = ops.norm(error[:, :2])
        success = (radius < 0.02) & (error[:, 2] > 0.0)
        # once on the peg the bottleneck widens
        threshold = torch.where(success, torch.full_like(radius, 0.02), torch.full_like(radius, 0.01))
        above = radius > threshold
        log_arg = torch.where(above, radius - threshold, torch.ones_like(radius))
        target_height = torch.where(above, 0.02 * torch.log(log_arg) + 0.2, torch.zeros_like(radius))
        error_z = 3.0 * (target_height - center[:, 2])
        lifted = (center[:, 2] > 0.02) | (radius < threshold)
        pos_error = torch.sqrt(error[:, 0] ** 2 + error[:, 1] ** 2 + error_z ** 2)
        in_place = 0.1 * lifted.to(radius.dtype) + 0.9 * ops.tolerance(pos_error, 0, 0.02, 0.4, "long_tail")
        return in_place, success


class DisassembleKernel(_NutKernel):
    """In place: 0.1 above the peg's top; success: the nut's observed height above the target's."""

    task = "disassemble-v3"

    def in_place(self, center: list[float], obs: list[float]) -> tuple[float, bool]:
        target = self.env._target_pos
        above_target = [target[0], target[1], target[2] + 0.1]
        in_place = 0.1 * float(center[2] > 0.02) + 0.9 * scalar.tolerance(scalar.dist(above_target, center), 0, 0.02,
                                                                          0.2, "long_tail")
        return in_place, obs[6] > target[2]


class DisassembleWarpKernel(_NutWarpKernel):
    task = "disassemble-v3"

    def in_place(self, center, obs):
        target = self.attr("_target_pos")
        above_target = torch.cat([target[:, :2], target[:, 2:] + 0.1], dim=1)
        in_place = 0.1 * (center[:, 2] > 0.02).to(obs.dtype) + 0.9 * ops.tolerance(ops.dist(above_target, center), 0,
                                                                                     0.02, 0.2, "long_tail")
        return in_place, obs[:, 6] > target[:, 2]
