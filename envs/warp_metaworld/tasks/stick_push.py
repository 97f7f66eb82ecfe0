"""stick-push-v3 (``SawyerStickPushEnvV3``) on Warp: grasp the stick and push the thermos to the goal with it."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.12


class StickPushKernel(WarpTaskKernel):
    task = "stick-push-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._stick = self.body_id("stick")
        self._insertion = self.site_id("insertion")
        self._stick_geom = self.geom_id("objGeom")
        self._leftpad_geom = self.geom_id("leftpad_geom")
        self._rightpad_geom = self.geom_id("rightpad_geom")

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
