"""coffee-pull-v3 (``SawyerCoffeePullEnvV3``): pull the mug out from under the coffee machine to the goal."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel


def _xy_weighted_dist(a, b) -> float:
    """``np.linalg.norm((a - b) * [2, 2, 1])``: metaworld's coffee rewards emphasise the x and y errors."""
    x, y, z = (a[0] - b[0]) * 2.0, (a[1] - b[1]) * 2.0, (a[2] - b[2]) * 1.0
    return math.sqrt(x * x + y * y + z * z)

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("geom", "mug"))


class CoffeePullKernel(TaskKernel):
    """Also the kernel of coffee-push-v3, whose v2 reward and objects are the same code."""

    task = "coffee-pull-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        target_to_obj = _xy_weighted_dist(obj, target)
        target_to_obj_init = _xy_weighted_dist(env.obj_init_pos, target)
        in_place = scalar.tolerance(target_to_obj, 0, 0.05, target_to_obj_init, "long_tail")
        tcp_opened = obs[3]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.04, obj_radius=0.02,
                                                    pad_success_thresh=0.05, xz_thresh=0.05,
                                                    desired_gripper_effort=0.7, medium_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        if tcp_to_obj < 0.04 and tcp_opened > 0:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < 0.05:
            reward = 10.0
        return float(reward), scalar.dist(obj, target) <= 0.07


def _xy_weighted_dist_warp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [2, 2, 1])`` per world: metaworld's coffee rewards emphasise the x and y errors."""
    d = a - b
    return torch.sqrt((d[:, 0] * 2.0) ** 2 + (d[:, 1] * 2.0) ** 2 + d[:, 2] ** 2)


class CoffeePullWarpKernel(WarpTaskKernel):
    """Also the kernel of coffee-push-v3, whose v2 reward and objects are the same code."""

    task = "coffee-pull-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        target_to_obj = _xy_weighted_dist_warp(obj, target)
        target_to_obj_init = _xy_weighted_dist_warp(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(target_to_obj, 0, 0.05, target_to_obj_init, "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.04, obj_radius=0.02,
                                                    pad_success_thresh=0.05, xz_thresh=0.05,
                                                    desired_gripper_effort=0.7, medium_density=True)
        reward = ops.hamacher_product(object_grasped, in_place)
        reward = torch.where((tcp_to_obj < 0.04) & (tcp_opened > 0), reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < 0.05, torch.full_like(reward, 10.0), reward)
        return reward, ops.dist(obj, target) <= 0.07
