"""door-open-v3 (``SawyerDoorEnvV3``): grab the door's handle and swing the door open."""

from __future__ import annotations

import math

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_THRESHOLD = 0.12  # radius of the funnel's flat bottom around the handle

_OBJECT = ObjectSpec(pos=("geom", "handle"), quat=("geom", "handle"))


class DoorOpenKernel(TaskKernel):
    task = "door-open-v3"
    object_spec = _OBJECT
    _door_qpos_adr = ModelId("qpos", "doorjoint")

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        theta = float(self._qpos[self._door_qpos_adr])
        # metaworld computes the grab effort from the float32 action: keep its rounding
        effort = np.float32(action[3])
        reward_grab = float((min(max(effort, -1), 1) + 1.0) / 2.0)
        ready_to_open, opened = self._reward_pos(obs, theta)
        reward = 2.0 * scalar.hamacher_product(ready_to_open, reward_grab) + 8.0 * opened
        success = abs(obs[4] - float(self.env._target_pos[0])) <= 0.08
        if success:
            reward = 10.0
        return reward, success

    @staticmethod
    def _reward_pos(obs: list[float], theta: float) -> tuple[float, float]:
        """``SawyerDoorEnvV3._reward_pos``: (hand ready to open the door, door opened)."""
        hand = obs[0:3]
        door = [obs[4] - 0.05, obs[5], obs[6]]
        # a 3D funnel centred on the handle keeps the hand from running into it prematurely
        radius = scalar.dist2(hand, door)
        floor = 0.0 if radius <= _THRESHOLD else 0.04 * math.log(radius - _THRESHOLD) + 0.4
        if hand[2] >= floor:
            above_floor = 1.0
        else:
            above_floor = scalar.tolerance(floor - hand[2], 0.0, 0.01, floor / 2.0, "long_tail")
        # the hand belongs between the handle and the door's body
        offset = [hand[0] - door[0] - 0.05, hand[1] - door[1] - 0.03, hand[2] - door[2] + 0.01]
        in_place = scalar.tolerance(scalar.norm(offset), 0, _THRESHOLD / 2.0, 0.5, "long_tail")
        ready_to_open = scalar.hamacher_product(above_floor, in_place)

        door_angle = -theta
        opened = 0.2 * float(theta < -math.pi / 90.0) + 0.8 * scalar.tolerance(
            math.pi / 2.0 + math.pi / 6 - door_angle, 0, 0.5, math.pi / 3.0, "long_tail")
        return ready_to_open, opened


class DoorOpenWarpKernel(WarpTaskKernel):
    task = "door-open-v3"
    object_spec = _OBJECT
    _door_qpos_adr = ModelId("qpos", "doorjoint")

    def reward(self, obs, action):
        theta = self.sim.qpos[:, self._door_qpos_adr]
        reward_grab = (action[:, 3].clamp(min=-1, max=1) + 1.0) / 2.0
        ready_to_open, opened = self._reward_pos(obs, theta)
        reward = 2.0 * ops.hamacher_product(ready_to_open, reward_grab) + 8.0 * opened
        success = (obs[:, 4] - self.attr("_target_pos")[:, 0]).abs() <= 0.08
        return torch.where(success, torch.full_like(reward, 10.0), reward), success

    @staticmethod
    def _reward_pos(obs, theta):
        """``SawyerDoorEnvV3._reward_pos``: (hand ready to open the door, door opened)."""
        hand = obs[:, 0:3]
        door = torch.stack([obs[:, 4] - 0.05, obs[:, 5], obs[:, 6]], dim=1)
        # a 3D funnel centred on the handle keeps the hand from running into it prematurely
        radius = ops.dist(hand[:, :2], door[:, :2])
        outside = radius > _THRESHOLD
        funnel = 0.04 * torch.log(torch.where(outside, radius - _THRESHOLD, torch.ones_like(radius))) + 0.4
        floor = torch.where(outside, funnel, torch.zeros_like(radius))
        above_floor = torch.where(hand[:, 2] >= floor, torch.ones_like(floor),
                                  ops.tolerance(floor - hand[:, 2], 0.0, 0.01, floor / 2.0, "long_tail"))
        # the hand belongs between the handle and the door's body
        offset = hand - door - ops.constant([0.05, 0.03, -0.01], hand)
        in_place = ops.tolerance(ops.norm(offset), 0, _THRESHOLD / 2.0, 0.5, "long_tail")
        ready_to_open = ops.hamacher_product(above_floor, in_place)
        door_angle = -theta
        opened = 0.2 * (theta < -math.pi / 90.0).to(theta.dtype) + 0.8 * ops.tolerance(
            math.pi / 2.0 + math.pi / 6 - door_angle, 0, 0.5, math.pi / 3.0, "long_tail")
        return ready_to_open, opened
