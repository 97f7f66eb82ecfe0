"""stick-pull-v3 (``SawyerStickPullEnvV3``) on Warp: grasp the stick, hook it into the thermos' handle and pull it
to the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


def _z_scaled_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [1, 1, 2])`` per world (metaworld's ``yz_scaling``, which doubles z only)."""
    d = a - b
    return ops.norm(torch.stack([d[:, 0], d[:, 1], d[:, 2] * 2.0], dim=-1))


def _shift_x(pos: torch.Tensor, dx: float) -> torch.Tensor:
    return torch.stack([pos[:, 0] + dx, pos[:, 1], pos[:, 2]], dim=-1)


class StickPullKernel(WarpTaskKernel):
    task = "stick-pull-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._stick = self.body_id("stick")
        self._insertion = self.site_id("insertion")
        self._stick_end = self.site_id("stick_end")

    def objects(self) -> torch.Tensor:
        stick = self.body_pos(self._stick)
        return torch.cat([stick, ops.quat_from_xmat(self.sim.xmat[:, self._stick]), self.site_pos(self._insertion),
                          torch.zeros_like(stick[:, :1]).expand(-1, 4)], dim=1)

    def reward(self, obs, action):
        stick, handle, tcp_opened = obs[:, 4:7], obs[:, 11:14], obs[:, 3]
        end_of_stick = self.site_pos(self._stick_end)
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        stick_init_pos = self.attr("stick_init_pos")
        container = _shift_x(handle, 0.05)
        container_init_pos = _shift_x(obj_init_pos, 0.05)
        tcp_to_stick = ops.dist(stick, self.tcp_center())
        handle_to_target = ops.dist(handle, target)

        stick_in_place = ops.tolerance(_z_scaled_dist(stick, container), 0, _TARGET_RADIUS,
                                       _z_scaled_dist(stick_init_pos, container_init_pos), "long_tail")
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
