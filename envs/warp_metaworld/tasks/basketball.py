"""basketball-v3 (``SawyerBasketballEnvV3``) on Warp: pick up the ball and dunk it through the hoop."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_TARGET_RADIUS = 0.08


def _scaled_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``norm((a - b) * [1, 1, 2])``: the z error counts double."""
    return ops.norm(torch.cat([a[:, :2] - b[:, :2], 2.0 * (a[:, 2:] - b[:, 2:])], dim=1))


class BasketballKernel(WarpTaskKernel):
    task = "basketball-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._ball = self.body_id("bsktball")
        self._goal_site = self.site_id("goal")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._ball), self.body_quat(self._ball)], dim=1)

    def goal(self) -> torch.Tensor:
        # metaworld's _target_pos is a live view of the goal site's position
        return self.site_pos(self._goal_site)

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        obj_init = self.attr("obj_init_pos")
        # the target is just above the hoop; the z error counts double
        target = torch.cat([self.goal()[:, :2], torch.full_like(obj[:, 2:], 0.3)], dim=1)
        target_to_obj = _scaled_dist(obj, target)
        target_to_obj_init = _scaled_dist(obj_init, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.06, xz_thresh=0.005, high_density=True)
        lifted_in_hand = (tcp_to_obj < 0.035) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
        object_grasped = torch.where(lifted_in_hand, torch.ones_like(object_grasped), object_grasped)
        reward = ops.hamacher_product(object_grasped, in_place)
        reward = torch.where(lifted_in_hand, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= _TARGET_RADIUS
