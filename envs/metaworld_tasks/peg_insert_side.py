"""peg-insert-side-v3 (``SawyerPegInsertionSideEnvV3``): pick up the peg and insert it sideways into the hole."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.07


def _scaled_dist(a: list[float], b: list[float]) -> float:
    """``np.linalg.norm((a - b) * [1, 2, 2])``: y and z count double, to make the agent lift before inserting."""
    x, y, z = a[0] - b[0], (a[1] - b[1]) * 2.0, (a[2] - b[2]) * 2.0
    return math.sqrt(x * x + y * y + z * z)


class PegInsertSideKernel(TaskKernel):
    task = "peg-insert-side-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        site = self.model.site
        self._peg_grasp = site("pegGrasp").id
        self._peg_head = site("pegHead").id
        self._box_1 = (site("bottom_right_corner_collision_box_1").id, site("top_left_corner_collision_box_1").id)
        self._box_2 = (site("bottom_right_corner_collision_box_2").id, site("top_left_corner_collision_box_2").id)

    def objects(self) -> list[float]:
        return self._site_xpos[self._peg_grasp].tolist() + scalar.quat_from_xmat(
            self._site_xmat[self._peg_grasp].tolist())

    def _collision_box(self, corners: tuple[int, int], obj_head: list[float]) -> float:
        bottom_right, top_left = corners
        return scalar.rect_prism_tolerance(obj_head, zero=self._site_xpos[bottom_right].tolist(),
                                           one=self._site_xpos[top_left].tolist())

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos
        obj_head = self._site_xpos[self._peg_head].tolist()
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        obj_to_target = _scaled_dist(obj_head, target)
        in_place_margin = _scaled_dist(env.peg_head_pos_init, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        collision_boxes = scalar.hamacher_product(self._collision_box(self._box_2, obj_head),
                                                  self._collision_box(self._box_1, obj_head))
        in_place = scalar.hamacher_product(in_place, collision_boxes)
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.0075,
                                                    pad_success_thresh=0.03, xz_thresh=0.005, high_density=True)
        lifted = tcp_to_obj < 0.08 and tcp_opened > 0 and obj[2] - 0.01 > env.obj_init_pos[2]
        if lifted:
            object_grasped = 1.0
        reward = scalar.hamacher_product(object_grasped, in_place)
        if lifted:
            reward += 1.0 + 5 * in_place
        if obj_to_target <= _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= _TARGET_RADIUS


def _scaled_dist_warp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [1, 2, 2])``: y and z count double, to make the agent lift before inserting."""
    return ops.norm((a - b) * ops.constant([1.0, 2.0, 2.0], a))


class PegInsertSideWarpKernel(WarpTaskKernel):
    task = "peg-insert-side-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._peg_grasp = self.site_id("pegGrasp")
        self._peg_head = self.site_id("pegHead")
        self._box_1 = (self.site_id("bottom_right_corner_collision_box_1"),
                       self.site_id("top_left_corner_collision_box_1"))
        self._box_2 = (self.site_id("bottom_right_corner_collision_box_2"),
                       self.site_id("top_left_corner_collision_box_2"))

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._peg_grasp), ops.quat_from_xmat(self.sim.site_xmat[:, self._peg_grasp])],
                         dim=1)

    def _collision_box(self, corners: tuple[int, int], obj_head: torch.Tensor) -> torch.Tensor:
        bottom_right, top_left = corners
        return ops.rect_prism_tolerance(obj_head, self.site_pos(bottom_right), self.site_pos(top_left))

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        obj_head = self.site_pos(self._peg_head)
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        obj_to_target = _scaled_dist_warp(obj_head, target)
        in_place_margin = _scaled_dist_warp(self.attr("peg_head_pos_init"), target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        collision_boxes = ops.hamacher_product(self._collision_box(self._box_2, obj_head),
                                               self._collision_box(self._box_1, obj_head))
        in_place = ops.hamacher_product(in_place, collision_boxes)
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.0075,
                                                    pad_success_thresh=0.03, xz_thresh=0.005, high_density=True)
        lifted = (tcp_to_obj < 0.08) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > self.attr("obj_init_pos")[:, 2])
        object_grasped = torch.where(lifted, torch.ones_like(object_grasped), object_grasped)
        reward = ops.hamacher_product(object_grasped, in_place)
        reward = torch.where(lifted, reward + 1.0 + 5 * in_place, reward)
        success = obj_to_target <= _TARGET_RADIUS
        return torch.where(success, torch.full_like(reward, 10.0), reward), success
