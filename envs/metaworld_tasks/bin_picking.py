"""bin-picking-v3 (``SawyerBinPickingEnvV3``): move the cube from one bin to the other."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("body", "obj"))


class BinPickingKernel(TaskKernel):
    task = "bin-picking-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        hand = obs[0:3]
        obj = obs[4:7]
        target = env._target_pos
        obj_init = env.obj_init_pos
        target_to_obj = scalar.dist(obj, target)
        # metaworld fixes the in-place margin at the first step of the episode, on the env
        if env._target_to_obj_init is None:
            env._target_to_obj_init = target_to_obj
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, env._target_to_obj_init, "long_tail")

        # the floor is a pair of funnels centred on the object's start and on the target: it keeps the hand above
        # the bins' edges
        threshold = 0.03
        floor = min(0.02 * math.log(radius - threshold) + 0.2 if radius > threshold else 0.0
                    for radius in (scalar.dist2(hand, obj_init), scalar.dist2(hand, target)))
        if hand[2] >= floor:
            above_floor = 1.0
        else:
            above_floor = scalar.tolerance(max(floor - hand[2], 0.0), 0.0, 0.01, 0.05, "long_tail")

        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.015, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01,
                                                    desired_gripper_effort=0.7, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        near_object = scalar.dist(obj, hand) < 0.04
        pinched_without_obj = obs[3] < 0.43
        lifted = obj[2] - 0.02 > obj_init[2]
        if near_object and lifted and not pinched_without_obj:
            reward += 1.0 + 5.0 * scalar.hamacher_product(above_floor, in_place)
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= 0.05


class BinPickingWarpKernel(WarpTaskKernel):
    task = "bin-picking-v3"
    object_spec = _OBJECT

    _bin_goal = ModelId("body", "bin_goal")

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        # metaworld fixes the in-place margin at the first step of the episode (NaN: not yet fixed)
        obj_init = self.attr("obj_init_pos")
        self._target_to_obj_init = torch.full_like(obj_init[:, 0], float("nan"))

    def on_reset(self, worlds, goals) -> None:
        super().on_reset(worlds, goals)
        self._target_to_obj_init[worlds] = float("nan")

    def goal(self) -> torch.Tensor:
        # metaworld's _target_pos is a live view of the goal bin's position
        return self.body_pos(self._bin_goal)

    def reward(self, obs, action):
        hand, obj = obs[:, 0:3], obs[:, 4:7]
        target, obj_init = self.goal(), self.attr("obj_init_pos")
        target_to_obj = ops.dist(obj, target)
        first = torch.isnan(self._target_to_obj_init)
        self._target_to_obj_init = torch.where(first, target_to_obj, self._target_to_obj_init)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, self._target_to_obj_init, "long_tail")

        # the floor is a pair of funnels centred on the object's start and on the target: it keeps the hand above
        # the bins' edges
        threshold = 0.03
        radii = torch.stack([ops.dist(hand[:, :2], obj_init[:, :2]), ops.dist(hand[:, :2], target[:, :2])], dim=1)
        funnel = radii > threshold
        log_arg = torch.where(funnel, radii - threshold, torch.ones_like(radii))
        floor = torch.where(funnel, 0.02 * torch.log(log_arg) + 0.2, torch.zeros_like(radii)).amin(dim=1)
        above_floor = torch.where(hand[:, 2] >= floor, torch.ones_like(floor),
                                  ops.tolerance((floor - hand[:, 2]).clamp(min=0.0), 0.0, 0.01, 0.05, "long_tail"))

        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.015, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01,
                                                    desired_gripper_effort=0.7, high_density=True)
        reward = ops.hamacher_product(object_grasped, in_place)
        near_object = ops.dist(obj, hand) < 0.04
        pinched_without_obj = obs[:, 3] < 0.43
        lifted = obj[:, 2] - 0.02 > obj_init[:, 2]
        reward = torch.where(near_object & lifted & ~pinched_without_obj,
                             reward + 1.0 + 5.0 * ops.hamacher_product(above_floor, in_place), reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= 0.05
