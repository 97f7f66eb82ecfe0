"""box-close-v3 (``SawyerBoxCloseEnvV3``): pick up the lid and put it on the box."""

from __future__ import annotations

import math

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_OBJECT = ObjectSpec(pos=("body", "top_link"), quat=("body", "top_link"))


class BoxCloseKernel(TaskKernel):
    task = "box-close-v3"
    object_spec = _OBJECT

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


class BoxCloseWarpKernel(WarpTaskKernel):
    task = "box-close-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        target = self.attr("_target_pos")
        reward_grab = ((action[:, 3].clamp(-1.0, 1.0) + 1.0) / 2.0).clamp(0.0, 1.0)
        qw, qx, qy, qz = obs[:, 7], obs[:, 8], obs[:, 9], obs[:, 10]
        quat_error = torch.sqrt((qw - 0.707) ** 2 + qx * qx + qy * qy + (qz - 0.707) ** 2)
        # a strong emphasis on the lid's orientation: otherwise the agent learns to kick-flip it onto the box
        reward_quat = (1.0 - quat_error / 0.2).clamp(min=0.0)

        hand = obs[:, 0:3]
        lid = torch.cat([obs[:, 4:6], obs[:, 6:7] + 0.02], dim=1)
        # the floor is a funnel centred on the lid's handle: it keeps the hand from hitting the handle early
        radius = ops.dist(hand[:, :2], lid[:, :2])
        funnel = radius > 0.02
        log_arg = torch.where(funnel, radius - 0.02, torch.ones_like(radius))
        floor = torch.where(funnel, 0.04 * torch.log(log_arg) + 0.4, torch.zeros_like(radius))
        above_floor = torch.where(hand[:, 2] >= floor, torch.ones_like(floor),
                                  ops.tolerance(floor - hand[:, 2], 0.0, 0.01, floor / 2.0, "long_tail"))
        near_handle = ops.tolerance(ops.dist(hand, lid), 0, 0.02, 0.5, "long_tail")
        ready_to_lift = ops.hamacher_product(above_floor, near_handle)
        error = torch.cat([target[:, :2] - lid[:, :2], 3.0 * (target[:, 2:] - lid[:, 2:])], dim=1)
        lifted = 0.2 * (lid[:, 2] > 0.04).to(obs.dtype) + 0.8 * ops.tolerance(ops.norm(error), 0, 0.05, 0.25,
                                                                                "long_tail")

        reward = 2.0 * ops.hamacher_product(reward_grab, ready_to_lift) + 8.0 * lifted
        success = ops.dist(obs[:, 4:7], target) < 0.08
        reward = torch.where(success, torch.full_like(reward, 10.0), reward)
        return reward * reward_quat, success
