"""box-close-v3 (``SawyerBoxCloseEnvV3``) on Warp: pick up the lid and put it on the box."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel


class BoxCloseKernel(WarpTaskKernel):
    task = "box-close-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._lid = self.body_id("top_link")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._lid), self.body_quat(self._lid)], dim=1)

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
