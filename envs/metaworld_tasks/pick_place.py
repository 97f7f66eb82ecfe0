"""pick-place-v3 (``SawyerPickPlaceEnvV3``): pick the puck up and place it at the goal."""

from __future__ import annotations

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

# Every reading is a Python float (lists, not numpy scalars): a numpy float64 would promote metaworld's float32
# arithmetic (the action enters the grasp reward) to float64.
_TARGET_RADIUS = 0.05
_PAD_SUCCESS_MARGIN = 0.05
_XZ_SUCCESS_MARGIN = 0.005
_OBJ_RADIUS = 0.015

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("geom", "objGeom"))


class PickPlaceKernel(TaskKernel):
    task = "pick-place-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        tcp = [float(v) for v in self.tcp_center()]
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        obj_to_target = scalar.dist(obj, target)
        tcp_to_obj = scalar.dist(obj, tcp)
        in_place_margin = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")

        object_grasped = self._gripper_caging_reward(action, obj, tcp)
        reward = scalar.hamacher_product(object_grasped, in_place)
        if tcp_to_obj < 0.02 and tcp_opened > 0 and obj[2] - 0.01 > obj_init_pos[2]:
            reward += 1.0 + 5.0 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07

    def _gripper_caging_reward(self, action: list[float], obj: list[float], tcp: list[float]) -> float:
        """``SawyerPickPlaceEnvV3._gripper_caging_reward``, which overrides the base class's: the pads' y bounds
        are signed and measured from the pads' initial positions, the density is always high."""
        env = self.env
        # init_left_pad / init_right_pad are live views of data.xpos in metaworld: read them now, as it does
        init_left_pad, init_right_pad = env.init_left_pad.tolist(), env.init_right_pad.tolist()
        left_pad_y = float(self._xpos[self._leftpad, 1])
        right_pad_y = float(self._xpos[self._rightpad, 1])
        right_margin = abs(abs(obj[1] - init_right_pad[1]) - _PAD_SUCCESS_MARGIN)
        left_margin = abs(abs(obj[1] - init_left_pad[1]) - _PAD_SUCCESS_MARGIN)
        right_caging = scalar.tolerance(obj[1] - right_pad_y, _OBJ_RADIUS, _PAD_SUCCESS_MARGIN, right_margin,
                                        "long_tail")
        left_caging = scalar.tolerance(left_pad_y - obj[1], _OBJ_RADIUS, _PAD_SUCCESS_MARGIN, left_margin,
                                       "long_tail")
        y_caging = scalar.hamacher_product(left_caging, right_caging)

        obj_init_pos, init_tcp = env.obj_init_pos.tolist(), env.init_tcp.tolist()
        tcp_obj_xz = scalar.dist_xz(tcp, obj)
        xz_margin = scalar.dist_xz(obj_init_pos, init_tcp) - _XZ_SUCCESS_MARGIN
        xz_caging = scalar.tolerance(tcp_obj_xz, 0, _XZ_SUCCESS_MARGIN, xz_margin, "long_tail")

        # metaworld mixes the float32 action in: keep its rounding
        gripper_closed = min(max(0, np.float32(action[-1])), 1)
        caging = scalar.hamacher_product(y_caging, xz_caging)
        gripping = gripper_closed if caging > 0.97 else 0.0
        caging_and_gripping = scalar.hamacher_product(caging, gripping)
        return (caging_and_gripping + caging) / 2


class PickPlaceWarpKernel(WarpTaskKernel):
    task = "pick-place-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        tcp = self.tcp_center()
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        obj_to_target = ops.dist(obj, target)
        tcp_to_obj = ops.dist(obj, tcp)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, ops.dist(obj_init_pos, target), "long_tail")
        object_grasped = self._gripper_caging_reward(action, obj, tcp)
        reward = ops.hamacher_product(object_grasped, in_place)
        lifted = (tcp_to_obj < 0.02) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
        reward = torch.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07

    def _gripper_caging_reward(self, action, obj, tcp):
        """``SawyerPickPlaceEnvV3._gripper_caging_reward``: signed pad bounds, always high density. Its
        ``init_left_pad`` / ``init_right_pad`` are live views: the pads' current positions."""
        left_pad_y = self.sim.xpos[:, self._leftpad, 1]
        right_pad_y = self.sim.xpos[:, self._rightpad, 1]
        right_margin = ((obj[:, 1] - right_pad_y).abs() - _PAD_SUCCESS_MARGIN).abs()
        left_margin = ((obj[:, 1] - left_pad_y).abs() - _PAD_SUCCESS_MARGIN).abs()
        right_caging = ops.tolerance(obj[:, 1] - right_pad_y, _OBJ_RADIUS, _PAD_SUCCESS_MARGIN, right_margin,
                                     "long_tail")
        left_caging = ops.tolerance(left_pad_y - obj[:, 1], _OBJ_RADIUS, _PAD_SUCCESS_MARGIN, left_margin,
                                    "long_tail")
        y_caging = ops.hamacher_product(left_caging, right_caging)
        xz = [0, 2]
        xz_margin = ops.dist(self.attr("obj_init_pos")[:, xz], self.attr("init_tcp")[:, xz]) - _XZ_SUCCESS_MARGIN
        xz_caging = ops.tolerance(ops.dist(tcp[:, xz], obj[:, xz]), 0, _XZ_SUCCESS_MARGIN, xz_margin, "long_tail")
        gripper_closed = action[:, 3].clamp(min=0, max=1)
        caging = ops.hamacher_product(y_caging, xz_caging)
        gripping = torch.where(caging > 0.97, gripper_closed, torch.zeros_like(gripper_closed))
        return (ops.hamacher_product(caging, gripping) + caging) / 2
