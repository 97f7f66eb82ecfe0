"""stick-pull-v3 (``SawyerStickPullEnvV3``): grasp the stick, hook it into the thermos' handle and pull it to the
goal."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05
_ZERO_QUAT = [0.0, 0.0, 0.0, 0.0]


def _z_scaled_dist(a: list[float], b: list[float]) -> float:
    """``np.linalg.norm((a - b) * [1, 1, 2])`` (metaworld's ``yz_scaling``, which doubles z only)."""
    x, y, z = a[0] - b[0], a[1] - b[1], (a[2] - b[2]) * 2.0
    return math.sqrt(x * x + y * y + z * z)


def _stick_is_inserted(handle: list[float], end_of_stick: list[float]) -> bool:
    return (end_of_stick[0] >= handle[0] and abs(end_of_stick[1] - handle[1]) <= 0.040
            and abs(end_of_stick[2] - handle[2]) <= 0.060)


class StickPullKernel(TaskKernel):
    task = "stick-pull-v3"
    _stick = ModelId("body", "stick")
    _insertion = ModelId("site", "insertion")
    _stick_end = ModelId("site", "stick_end")

    def objects(self) -> list[float]:
        return (self.body_pos(self._stick) + scalar.quat_from_xmat(self._xmat[self._stick].tolist())
                + self._site_xpos[self._insertion].tolist() + _ZERO_QUAT)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        stick = obs[4:7]
        handle = obs[11:14]
        tcp_opened = obs[3]
        end_of_stick = self._site_xpos[self._stick_end].tolist()
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        stick_init_pos = env.stick_init_pos.tolist()
        container = [handle[0] + 0.05, handle[1], handle[2]]
        container_init_pos = [obj_init_pos[0] + 0.05, obj_init_pos[1], obj_init_pos[2]]
        tcp_to_stick = scalar.dist(stick, self.tcp_center())
        handle_to_target = scalar.dist(handle, target)

        stick_to_container = _z_scaled_dist(stick, container)
        stick_in_place_margin = _z_scaled_dist(stick_init_pos, container_init_pos)
        stick_in_place = scalar.tolerance(stick_to_container, 0, _TARGET_RADIUS, stick_in_place_margin, "long_tail")
        stick_to_target = scalar.dist(stick, target)
        stick_in_place_margin_2 = scalar.dist(stick_init_pos, target)
        stick_in_place_2 = scalar.tolerance(stick_to_target, 0, _TARGET_RADIUS, stick_in_place_margin_2, "long_tail")
        container_to_target = scalar.dist(container, target)
        container_in_place_margin = scalar.dist(obj_init_pos, target)
        container_in_place = scalar.tolerance(container_to_target, 0, _TARGET_RADIUS, container_in_place_margin,
                                              "long_tail")

        # the base caging reward, whose y and xz margins use obj_init_pos: the thermos', not the stick's
        object_grasped = self.gripper_caging_reward(action, stick, obj_radius=0.014, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
        grasp_success = tcp_to_stick < 0.02 and tcp_opened > 0 and stick[2] - 0.01 > stick_init_pos[2]
        if grasp_success:
            object_grasped = 1
        in_place_and_object_grasped = scalar.hamacher_product(object_grasped, stick_in_place)
        reward = in_place_and_object_grasped
        inserted = _stick_is_inserted(handle, end_of_stick)
        if grasp_success:
            reward = 1.0 + in_place_and_object_grasped + 5.0 * stick_in_place
            if inserted:
                reward = 1.0 + in_place_and_object_grasped + 5.0 + 2.0 * stick_in_place_2 + 1.0 * container_in_place
                if handle_to_target <= 0.12:
                    reward = 10.0
        return float(reward), handle_to_target <= 0.12 and inserted


def _z_scaled_dist_warp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [1, 1, 2])`` per world (metaworld's ``yz_scaling``, which doubles z only)."""
    d = a - b
    return ops.norm(torch.stack([d[:, 0], d[:, 1], d[:, 2] * 2.0], dim=-1))


def _shift_x_warp(pos: torch.Tensor, dx: float) -> torch.Tensor:
    return torch.stack([pos[:, 0] + dx, pos[:, 1], pos[:, 2]], dim=-1)


class StickPullWarpKernel(WarpTaskKernel):
    task = "stick-pull-v3"
    _stick = ModelId("body", "stick")
    _insertion = ModelId("site", "insertion")
    _stick_end = ModelId("site", "stick_end")

    def objects(self) -> torch.Tensor:
        stick = self.body_pos(self._stick)
        return torch.cat([stick, ops.quat_from_xmat(self.sim.xmat[:, self._stick]), self.site_pos(self._insertion),
                          torch.zeros_like(stick[:, :1]).expand(-1, 4)], dim=1)

    def reward(self, obs, action):
        stick, handle, tcp_opened = obs[:, 4:7], obs[:, 11:14], obs[:, 3]
        end_of_stick = self.site_pos(self._stick_end)
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        stick_init_pos = self.attr("stick_init_pos")
        container = _shift_x_warp(handle, 0.05)
        container_init_pos = _shift_x_warp(obj_init_pos, 0.05)
        tcp_to_stick = ops.dist(stick, self.tcp_center())
        handle_to_target = ops.dist(handle, target)

        stick_in_place = ops.tolerance(_z_scaled_dist_warp(stick, container), 0, _TARGET_RADIUS,
                                       _z_scaled_dist_warp(stick_init_pos, container_init_pos), "long_tail")
        stick_in_place_2 = ops.tolerance(ops.dist(stick, target), 0, _TARGET_RADIUS,
                                         ops.dist(stick_init_pos, target), "long_tail")
        container_in_place = ops.tolerance(ops.dist(container, target), 0, _TARGET_RADIUS,
                                           ops.dist(obj_init_pos, target), "long_tail")

        # the base caging reward, whose y and xz margins use obj_init_pos: the thermos', not the stick's
        object_grasped = self.gripper_caging_reward(action, stick, obj_radius=0.014, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
        grasp_success = (tcp_to_stick < 0.02) & (tcp_opened > 0) & (stick[:, 2] - 0.01 > stick_init_pos[:, 2])
        object_grasped = torch.where(grasp_success, torch.ones_like(object_grasped), object_grasped)
        in_place_and_object_grasped = ops.hamacher_product(object_grasped, stick_in_place)
        inserted = ((end_of_stick[:, 0] >= handle[:, 0]) & ((end_of_stick[:, 1] - handle[:, 1]).abs() <= 0.040)
                    & ((end_of_stick[:, 2] - handle[:, 2]).abs() <= 0.060))
        grasped = 1.0 + in_place_and_object_grasped + 5.0 * stick_in_place
        hooked = 1.0 + in_place_and_object_grasped + 5.0 + 2.0 * stick_in_place_2 + 1.0 * container_in_place
        hooked = torch.where(handle_to_target <= 0.12, torch.full_like(hooked, 10.0), hooked)
        reward = torch.where(grasp_success, torch.where(inserted, hooked, grasped), in_place_and_object_grasped)
        return reward, (handle_to_target <= 0.12) & inserted
