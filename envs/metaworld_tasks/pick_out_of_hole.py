"""pick-out-of-hole-v3 (``SawyerPickOutOfHoleEnvV3``): pick the peg out of the hole and take it to the goal."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("body", "obj"))


class PickOutOfHoleKernel(TaskKernel):
    task = "pick-out-of-hole-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init = env.obj_init_pos
        gripper = self.tcp_center()
        obj_to_target = scalar.dist(obj, target)
        tcp_to_obj = scalar.dist(obj, gripper)
        in_place_margin = scalar.dist(obj_init, target)

        # the floor is a funnel centred on the object's start: it keeps the hand off the hole's edge
        radius = scalar.dist2(gripper, obj_init)
        floor = 0.0 if radius <= 0.03 else 0.015 * math.log(radius - 0.03) + 0.15
        if gripper[2] >= floor:
            above_floor = 1.0
        else:
            above_floor = scalar.tolerance(max(floor - gripper[2], 0.0), 0.0, 0.01, 0.02, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.02, xz_thresh=0.03,
                                                    desired_gripper_effort=0.1, high_density=True)
        in_place = scalar.tolerance(obj_to_target, 0, 0.02, in_place_margin, "long_tail")
        reward = scalar.hamacher_product(object_grasped, in_place)

        near_object = tcp_to_obj < 0.04
        pinched_without_obj = obs[3] < 0.33
        lifted = obj[2] - 0.02 > obj_init[2]
        if near_object and lifted and not pinched_without_obj:
            reward += 1.0 + 5.0 * scalar.hamacher_product(in_place, above_floor)
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class PickOutOfHoleWarpKernel(WarpTaskKernel):
    task = "pick-out-of-hole-v3"
    object_spec = _OBJECT

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
