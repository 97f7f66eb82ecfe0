"""pick-out-of-hole-v3 (``SawyerPickOutOfHoleEnvV3``) on Warp: pick the peg out of the hole, take it to the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


class PickOutOfHoleKernel(WarpTaskKernel):
    task = "pick-out-of-hole-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj = self.body_id("obj")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._obj), self.body_quat(self._obj)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init = self.attr("_target_pos"), self.attr("obj_init_pos")
        gripper = self.tcp_center()
        obj_to_target = ops.dist(obj, target)
        tcp_to_obj = ops.dist(obj, gripper)

        # the floor is a funnel centred on the object's start: it keeps the hand off the hole's edge
        radius = ops.dist(gripper[:, :2], obj_init[:, :2])
        funnel = radius > 0.03
        log_arg = torch.where(funnel, radius - 0.03, torch.ones_like(radius))
        floor = torch.where(funnel, 0.015 * torch.log(log_arg) + 0.15, torch.zeros_like(radius))
        above_floor = torch.where(gripper[:, 2] >= floor, torch.ones_like(floor),
                                  ops.tolerance((floor - gripper[:, 2]).clamp(min=0.0), 0.0, 0.01, 0.02, "long_tail"))
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.02, xz_thresh=0.03,
                                                    desired_gripper_effort=0.1, high_density=True)
        in_place = ops.tolerance(obj_to_target, 0, 0.02, ops.dist(obj_init, target), "long_tail")
        reward = ops.hamacher_product(object_grasped, in_place)

        near_object = tcp_to_obj < 0.04
        pinched_without_obj = obs[:, 3] < 0.33
        lifted = obj[:, 2] - 0.02 > obj_init[:, 2]
        reward = torch.where(near_object & lifted & ~pinched_without_obj,
                             reward + 1.0 + 5.0 * ops.hamacher_product(in_place, above_floor), reward)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07
