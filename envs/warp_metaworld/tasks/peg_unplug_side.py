"""peg-unplug-side-v3 (``SawyerPegUnplugSideEnvV3``) on Warp: grasp the peg and pull it sideways out of the box."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel


class PegUnplugSideKernel(WarpTaskKernel):
    task = "peg-unplug-side-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._peg_end = self.site_id("pegEnd")
        self._plug = self.body_id("plug1")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._peg_end), self.body_quat(self._plug)], dim=1)

    def reward(self, obs, action):
        obj, tcp_opened = obs[:, 4:7], obs[:, 3]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        obj_to_target = ops.dist(obj, target)
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.025,
                                                    pad_success_thresh=0.05, xz_thresh=0.005,
                                                    desired_gripper_effort=0.8, high_density=True)
        in_place = ops.tolerance(obj_to_target, 0, 0.05, ops.dist(obj_init_pos, target), "long_tail")
        grasp_success = (tcp_opened > 0.5) & (obj[:, 0] - obj_init_pos[:, 0] > 0.015)
        reward = 2 * object_grasped
        reward = torch.where(grasp_success & (tcp_to_obj < 0.035), 1 + 2 * object_grasped + 5 * in_place, reward)
        reward = torch.where(obj_to_target <= 0.05, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= 0.07
