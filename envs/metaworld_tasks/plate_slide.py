"""plate-slide-v3 and its side, back and back-side variants (``SawyerPlateSlide*EnvV3``): slide the puck to the goal."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("geom", "puck"), quat=("geom", "puck"))


class _PlateSlideBase(TaskKernel):
    """The puck's pose and the two distances every plate-slide reward uses."""

    object_spec = _OBJECT


class PlateSlideKernel(_PlateSlideBase):
    task = "plate-slide-v3"

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        obj_to_target = scalar.dist(obj, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, scalar.dist(obj_init_pos, target), "long_tail")
        object_grasped = scalar.tolerance(scalar.dist(self.tcp_center(), obj), 0, _TARGET_RADIUS,
                                          scalar.dist(env.init_tcp, obj_init_pos), "long_tail")
        reward = 8 * scalar.hamacher_product(object_grasped, in_place)
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class _PlateSlideOtherKernel(_PlateSlideBase):
    """The reward of the side, back and back-side variants: margins shrunk by the target radius, and a bonus once
    the gripper is down at the puck."""

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        tcp = self.tcp_center()
        obj_to_target = scalar.dist(obj, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS,
                                    scalar.dist(obj_init_pos, target) - _TARGET_RADIUS, "long_tail")
        tcp_to_obj = scalar.dist(tcp, obj)
        object_grasped = scalar.tolerance(tcp_to_obj, 0, _TARGET_RADIUS,
                                          scalar.dist(env.init_tcp, obj_init_pos) - _TARGET_RADIUS, "long_tail")
        reward = 1.5 * object_grasped
        if tcp[2] <= 0.03 and tcp_to_obj < 0.07:
            reward = 2.0 + 7.0 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class PlateSlideSideKernel(_PlateSlideOtherKernel):
    task = "plate-slide-side-v3"


class PlateSlideBackKernel(_PlateSlideOtherKernel):
    task = "plate-slide-back-v3"


class PlateSlideBackSideKernel(_PlateSlideOtherKernel):
    task = "plate-slide-back-side-v3"


class _PlateSlideBaseWarp(WarpTaskKernel):
    """The puck's pose, shared by every plate-slide variant."""

    object_spec = _OBJECT


class PlateSlideWarpKernel(_PlateSlideBaseWarp):
    task = "plate-slide-v3"

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        obj_to_target = ops.dist(obj, target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = ops.tolerance(ops.dist(self.tcp_center(), obj), 0, _TARGET_RADIUS,
                                       ops.dist(self.attr("init_tcp"), obj_init_pos), "long_tail")
        reward = 8 * ops.hamacher_product(object_grasped, in_place)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07


class _PlateSlideOtherWarpKernel(_PlateSlideBaseWarp):
    """The reward of the side, back and back-side variants: margins shrunk by the target radius, and a bonus once
    the gripper is down at the puck."""

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        tcp = self.tcp_center()
        obj_to_target = ops.dist(obj, target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target) - _TARGET_RADIUS,
                                 "long_tail")
        tcp_to_obj = ops.dist(tcp, obj)
        object_grasped = ops.tolerance(tcp_to_obj, 0, _TARGET_RADIUS,
                                       ops.dist(self.attr("init_tcp"), obj_init_pos) - _TARGET_RADIUS, "long_tail")
        reward = 1.5 * object_grasped
        reward = torch.where((tcp[:, 2] <= 0.03) & (tcp_to_obj < 0.07), 2.0 + 7.0 * in_place, reward)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07


class PlateSlideSideWarpKernel(_PlateSlideOtherWarpKernel):
    task = "plate-slide-side-v3"


class PlateSlideBackWarpKernel(_PlateSlideOtherWarpKernel):
    task = "plate-slide-back-v3"


class PlateSlideBackSideWarpKernel(_PlateSlideOtherWarpKernel):
    task = "plate-slide-back-side-v3"
