"""basketball-v3 (``SawyerBasketballEnvV3``): pick up the ball and dunk it through the hoop."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.08


def _scaled_dist(a: list[float], b: list[float]) -> float:
    """``norm((a - b) * [1, 1, 2])``: the z error counts double."""
    x, y, z = a[0] - b[0], a[1] - b[1], 2.0 * (a[2] - b[2])
    return math.sqrt(x * x + y * y + z * z)

_OBJECT = ObjectSpec(pos=("body", "bsktball"), quat=("body", "bsktball"))


class BasketballKernel(TaskKernel):
    task = "basketball-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        obj_init = env.obj_init_pos
        goal = env._target_pos
        # the target is just above the hoop
        target = [goal[0], goal[1], 0.3]
        target_to_obj = _scaled_dist(obj, target)
        target_to_obj_init = _scaled_dist(obj_init, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        tcp_opened = obs[3]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.06, xz_thresh=0.005, high_density=True)
        lifted_in_hand = tcp_to_obj < 0.035 and tcp_opened > 0 and obj[2] - 0.01 > obj_init[2]
        if lifted_in_hand:
            object_grasped = 1.0
        reward = scalar.hamacher_product(object_grasped, in_place)
        if lifted_in_hand:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS


def _scaled_dist_warp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``norm((a - b) * [1, 1, 2])``: the z error counts double."""
    return ops.norm(torch.cat([a[:, :2] - b[:, :2], 2.0 * (a[:, 2:] - b[:, 2:])], dim=1))


class BasketballWarpKernel(WarpTaskKernel):
    task = "basketball-v3"
    object_spec = _OBJECT
    _goal_site = ModelId("site", "goal")

    def goal(self) -> torch.Tensor:
        # metaworld's _target_pos is a live view of the goal site's position
        return self.site_pos(self._goal_site)

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        obj_init = self.attr("obj_init_pos")
        # the target is just above the hoop; the z error counts double
        target = torch.cat([self.goal()[:, :2], torch.full_like(obj[:, 2:], 0.3)], dim=1)
        target_to_obj = _scaled_dist_warp(obj, target)
        target_to_obj_init = _scaled_dist_warp(obj_init, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.06, xz_thresh=0.005, high_density=True)
        lifted_in_hand = (tcp_to_obj < 0.035) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
        object_grasped = torch.where(lifted_in_hand, torch.ones_like(object_grasped), object_grasped)
        reward = ops.hamacher_product(object_grasped, in_place)
        reward = torch.where(lifted_in_hand, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= _TARGET_RADIUS
