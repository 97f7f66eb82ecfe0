"""coffee-pull-v3 (``SawyerCoffeePullEnvV3``) on Warp: pull the mug out from under the coffee machine to the goal."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel


def _xy_weighted_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``np.linalg.norm((a - b) * [2, 2, 1])`` per world: metaworld's coffee rewards emphasise the x and y errors."""
    d = a - b
    return torch.sqrt((d[:, 0] * 2.0) ** 2 + (d[:, 1] * 2.0) ** 2 + d[:, 2] ** 2)


class CoffeePullKernel(WarpTaskKernel):
    """Also the kernel of coffee-push-v3, whose v2 reward and objects are the same code."""

    task = "coffee-pull-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._obj = self.body_id("obj")
        self._mug = self.geom_id("mug")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.body_pos(self._obj), self.geom_quat(self._mug)], dim=1)

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target = self.attr("_target_pos")
        target_to_obj = _xy_weighted_dist(obj, target)
        target_to_obj_init = _xy_weighted_dist(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(target_to_obj, 0, 0.05, target_to_obj_init, "long_tail")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.04, obj_radius=0.02,
                                                    pad_success_thresh=0.05, xz_thresh=0.05,
                                                    desired_gripper_effort=0.7, medium_density=True)
        reward = ops.hamacher_product(object_grasped, in_place)
        reward = torch.where((tcp_to_obj < 0.04) & (tcp_opened > 0), reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < 0.05, torch.full_like(reward, 10.0), reward)
        return reward, ops.dist(obj, target) <= 0.07
