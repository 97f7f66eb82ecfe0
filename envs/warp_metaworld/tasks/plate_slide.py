"""plate-slide-v3 and its side, back and back-side variants (``SawyerPlateSlide*EnvV3``) on Warp: slide the puck."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


class _PlateSlideBase(WarpTaskKernel):
    """The puck's pose, shared by every plate-slide variant."""

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._puck = self.geom_id("puck")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.sim.geom_xpos[:, self._puck], self.geom_quat(self._puck)], dim=1)


class PlateSlideKernel(_PlateSlideBase):
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


class _PlateSlideOtherKernel(_PlateSlideBase):
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


class PlateSlideSideKernel(_PlateSlideOtherKernel):
    task = "plate-slide-side-v3"


class PlateSlideBackKernel(_PlateSlideOtherKernel):
    task = "plate-slide-back-v3"


class PlateSlideBackSideKernel(_PlateSlideOtherKernel):
    task = "plate-slide-back-side-v3"
