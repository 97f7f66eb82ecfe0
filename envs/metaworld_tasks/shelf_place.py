"""shelf-place-v3 (``SawyerShelfPlaceEnvV3``): pick up the block and place it on the shelf."""

from __future__ import annotations

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("geom", "objGeom"))


class ShelfPlaceKernel(TaskKernel):
    task = "shelf-place-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        obj_to_target = scalar.dist(obj, target)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        in_place_margin = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.02, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01)
        reward = scalar.hamacher_product(object_grasped, in_place)
        # below the shelf, in front of the goal: in_place is cut, and zeroed once the block is past the goal in y
        below_shelf_in_x = 0.0 < obj[2] < 0.24 and target[0] - 0.15 < obj[0] < target[0] + 0.15
        if below_shelf_in_x and (target[1] - 3 * _TARGET_RADIUS) < obj[1] < target[1]:
            z_scaling = (0.24 - obj[2]) / 0.24
            y_scaling = (obj[1] - (target[1] - 3 * _TARGET_RADIUS)) / (3 * _TARGET_RADIUS)
            bound_loss = scalar.hamacher_product(y_scaling, z_scaling)
            # metaworld's np.clip returns an np.float64, which (unlike a Python float) promotes the float32 grasp
            # reward it is added to below: keep that rounding
            in_place = np.float64(min(max(in_place - bound_loss, 0.0), 1.0))
        if below_shelf_in_x and obj[1] > target[1]:
            in_place = 0.0
        if tcp_to_obj < 0.025 and tcp_opened > 0 and obj[2] - 0.01 > obj_init_pos[2]:
            reward += 1.0 + 5.0 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class ShelfPlaceWarpKernel(WarpTaskKernel):
    task = "shelf-place-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        x, y, z = obj[:, 0], obj[:, 1], obj[:, 2]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        obj_to_target = ops.dist(obj, target)
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.02, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01)
        reward = ops.hamacher_product(object_grasped, in_place)
        # below the shelf, in front of the goal: in_place is cut, and zeroed once the block is past the goal in y
        below_shelf_in_x = (0.0 < z) & (z < 0.24) & (target[:, 0] - 0.15 < x) & (x < target[:, 0] + 0.15)
        front = target[:, 1] - 3 * _TARGET_RADIUS
        z_scaling = (0.24 - z) / 0.24
        y_scaling = (y - front) / (3 * _TARGET_RADIUS)
        # the products are only used where both are in [0, 1] (metaworld would raise elsewhere)
        bound_loss = ops.hamacher_product(y_scaling, z_scaling)
        cut = (in_place - bound_loss).clamp(min=0.0).clamp(max=1.0)
        in_place = torch.where(below_shelf_in_x & (front < y) & (y < target[:, 1]), cut, in_place)
        in_place = torch.where(below_shelf_in_x & (y > target[:, 1]), torch.zeros_like(in_place), in_place)
        lifted = (tcp_to_obj < 0.025) & (tcp_opened > 0) & (z - 0.01 > obj_init_pos[:, 2])
        reward = torch.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07
