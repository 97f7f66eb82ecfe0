"""stick-push-v3 (``SawyerStickPushEnvV3``): grasp the stick and push the thermos to the goal with it."""

from __future__ import annotations

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.12
_ZERO_QUAT = [0.0, 0.0, 0.0, 0.0]


class _StickPushIds:
    """The model's ids both kernels read."""

    _stick = ModelId("body", "stick")
    _insertion = ModelId("site", "insertion")
    _stick_geom = ModelId("geom", "objGeom")
    _leftpad_geom = ModelId("geom", "leftpad_geom")
    _rightpad_geom = ModelId("geom", "rightpad_geom")


class StickPushKernel(_StickPushIds, TaskKernel):
    task = "stick-push-v3"

    def objects(self) -> list[float]:
        insertion = self._site_xpos[self._insertion].tolist()
        return (self.body_pos(self._stick) + scalar.quat_from_xmat(self._xmat[self._stick].tolist())
                + [insertion[0], insertion[1] + 0.09, insertion[2]] + _ZERO_QUAT)

    def _touching_stick(self) -> bool:
        """``SawyerXYZEnv.touching_main_object``: both pads press on the stick (summed contact forces > 0)."""
        contact = self.data.contact
        efc_force = self.data.efc_force
        stick, left, right = self._stick_geom, self._leftpad_geom, self._rightpad_geom
        left_force = right_force = 0.0
        for (geom1, geom2), efc_address in zip(contact.geom.tolist(), contact.efc_address.tolist(), strict=True):
            if stick in (geom1, geom2):
                if left in (geom1, geom2):
                    left_force += efc_force[efc_address]
                if right in (geom1, geom2):
                    right_force += efc_force[efc_address]
        return 0 < left_force and 0 < right_force

    def _gripper_caging_reward(self, action: list[float], obj_pos: list[float], stick_init_pos: list[float]) -> float:
        """The override of ``_gripper_caging_reward``: the base one with ``stick_init_pos`` for ``obj_init_pos``
        (arguments fixed to this task's: radius 0.04, pad threshold 0.05, xz threshold 0.01, high density)."""
        obj_radius, pad_success_thresh, xz_thresh = 0.04, 0.05, 0.01
        caging_lr = []
        for pad in (self._leftpad, self._rightpad):
            pad_y = self._xpos[pad][1]
            margin = abs(abs(pad_y - stick_init_pos[1]) - pad_success_thresh)
            caging_lr.append(scalar.tolerance(abs(pad_y - obj_pos[1]), obj_radius, pad_success_thresh, margin,
                                              "long_tail"))
        caging_y = scalar.hamacher_product(caging_lr[0], caging_lr[1])
        caging_xz_margin = scalar.dist_xz(stick_init_pos, self.env.init_tcp) - xz_thresh
        caging_xz = scalar.tolerance(scalar.dist_xz(self.tcp_center(), obj_pos), 0, xz_thresh, caging_xz_margin,
                                     "long_tail")
        # metaworld computes these with the float32 action: keep its rounding
        gripper_closed = min(max(0, np.float32(action[-1])), 1.0)
        caging = scalar.hamacher_product(caging_y, caging_xz)
        gripping = gripper_closed if caging > 0.97 else 0.0
        return (scalar.hamacher_product(caging, gripping) + caging) / 2

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        stick = [obs[4] + 0.015, obs[5], obs[6]]
        container = obs[11:14]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        stick_init_pos = env.stick_init_pos.tolist()
        tcp_to_stick = scalar.dist(stick, self.tcp_center())
        stick_to_target = scalar.dist(stick, target)
        stick_in_place_margin = scalar.dist(stick_init_pos, target) - _TARGET_RADIUS
        stick_in_place = scalar.tolerance(stick_to_target, 0, _TARGET_RADIUS, stick_in_place_margin, "long_tail")
        container_to_target = scalar.dist(container, target)
        container_in_place_margin = scalar.dist(env.obj_init_pos.tolist(), target) - _TARGET_RADIUS
        container_in_place = scalar.tolerance(container_to_target, 0, _TARGET_RADIUS, container_in_place_margin,
                                              "long_tail")
        reward = self._gripper_caging_reward(action, stick, stick_init_pos)
        if tcp_to_stick < 0.02 and tcp_opened > 0 and stick[2] - 0.01 > stick_init_pos[2]:
            reward = 2.0 + 5.0 * stick_in_place + 3.0 * container_in_place
            if container_to_target <= _TARGET_RADIUS:
                reward = 10.0
        # success needs the pads on the stick (a contact scan): test the cheap conditions first
        success = (tcp_opened > 0 and obs[6] - 0.01 > stick_init_pos[2] and container_to_target <= _TARGET_RADIUS
                   and self._touching_stick())
        return float(reward), success


class StickPushWarpKernel(_StickPushIds, WarpTaskKernel):
    task = "stick-push-v3"

    def objects(self) -> torch.Tensor:
        stick, insertion = self.body_pos(self._stick), self.site_pos(self._insertion)
        thermos = torch.stack([insertion[:, 0], insertion[:, 1] + 0.09, insertion[:, 2]], dim=-1)
        return torch.cat([stick, ops.quat_from_xmat(self.sim.xmat[:, self._stick]), thermos,
                          torch.zeros_like(stick[:, :1]).expand(-1, 4)], dim=1)

    def _touching_stick(self) -> torch.Tensor:
        """``SawyerXYZEnv.touching_main_object``: both pads press on the stick (summed contact forces > 0)."""
        left = self.sim.contact_force(self._stick_geom, self._leftpad_geom)
        right = self.sim.contact_force(self._stick_geom, self._rightpad_geom)
        return (0 < left) & (0 < right)

    # ------------------------------------------------------------------ reward
    def _gripper_caging_reward(self, action, obj_pos, stick_init_pos):
        """The override of ``_gripper_caging_reward``: the base one with ``stick_init_pos`` for ``obj_init_pos``
        (arguments fixed to this task's: radius 0.04, pad threshold 0.05, xz threshold 0.01, high density)."""
        obj_radius, pad_success_thresh, xz_thresh = 0.04, 0.05, 0.01
        pad_y = torch.stack([self.sim.xpos[:, self._leftpad, 1], self.sim.xpos[:, self._rightpad, 1]], dim=-1)
        margin = ((pad_y - stick_init_pos[:, 1:2]).abs() - pad_success_thresh).abs()
        caging_lr = ops.tolerance((pad_y - obj_pos[:, 1:2]).abs(), obj_radius, pad_success_thresh, margin,
                                  "long_tail")
        caging_y = ops.hamacher_product(caging_lr[:, 0], caging_lr[:, 1])
        xz = [0, 2]
        caging_xz_margin = ops.dist(stick_init_pos[:, xz], self.attr("init_tcp")[:, xz]) - xz_thresh
        caging_xz = ops.tolerance(ops.dist(self.tcp_center()[:, xz], obj_pos[:, xz]), 0, xz_thresh,
                                  caging_xz_margin, "long_tail")
        gripper_closed = action[:, 3].clamp(min=0).clamp(max=1.0)
        caging = ops.hamacher_product(caging_y, caging_xz)
        gripping = torch.where(caging > 0.97, gripper_closed, torch.zeros_like(gripper_closed))
        return (ops.hamacher_product(caging, gripping) + caging) / 2

    def reward(self, obs, action):
        stick = torch.stack([obs[:, 4] + 0.015, obs[:, 5], obs[:, 6]], dim=-1)
        container, tcp_opened = obs[:, 11:14], obs[:, 3]
        target, stick_init_pos = self.attr("_target_pos"), self.attr("stick_init_pos")
        tcp_to_stick = ops.dist(stick, self.tcp_center())
        stick_in_place = ops.tolerance(ops.dist(stick, target), 0, _TARGET_RADIUS,
                                       ops.dist(stick_init_pos, target) - _TARGET_RADIUS, "long_tail")
        container_to_target = ops.dist(container, target)
        container_in_place = ops.tolerance(container_to_target, 0, _TARGET_RADIUS,
                                           ops.dist(self.attr("obj_init_pos"), target) - _TARGET_RADIUS, "long_tail")
        reward = self._gripper_caging_reward(action, stick, stick_init_pos)
        pushing = torch.where(container_to_target <= _TARGET_RADIUS, torch.full_like(reward, 10.0),
                              2.0 + 5.0 * stick_in_place + 3.0 * container_in_place)
        grasped = (tcp_to_stick < 0.02) & (tcp_opened > 0) & (stick[:, 2] - 0.01 > stick_init_pos[:, 2])
        reward = torch.where(grasped, pushing, reward)
        success = ((tcp_opened > 0) & (obs[:, 6] - 0.01 > stick_init_pos[:, 2])
                   & (container_to_target <= _TARGET_RADIUS) & self._touching_stick())
        return reward, success
