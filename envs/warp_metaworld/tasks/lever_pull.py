"""lever-pull-v3 (``SawyerLeverPullEnvV3``) on Warp: lift the lever to point straight up."""

from __future__ import annotations

import math

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

# metaworld scales the shoulder-to-lever error by (4, 1, 4) around an offset that puts the shoulder under the lever
_SCALE = (4.0, 1.0, 4.0)
_OFFSET = (0.0, 0.055, 0.07)


def _shoulder_to_lever(gripper: torch.Tensor, lever: torch.Tensor) -> torch.Tensor:
    return ops.norm(torch.stack([(gripper[:, i] + _OFFSET[i] - lever[:, i]) * _SCALE[i] for i in range(3)], dim=-1))


class LeverPullKernel(WarpTaskKernel):
    task = "lever-pull-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._lever_start = self.site_id("leverStart")
        self._obj_geom = self.geom_id("objGeom")
        self._lever_adr = self.joint_qpos_address("LeverAxis")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._lever_start), self.geom_quat(self._obj_geom)], dim=1)

    def reward(self, obs, action):
        lever = obs[:, 4:7]
        lever_pos_init = self.attr("_lever_pos_init")
        ready_to_lift = ops.tolerance(_shoulder_to_lever(obs[:, :3], lever), 0, 0.02,
                                      _shoulder_to_lever(self.attr("init_tcp"), lever_pos_init), "long_tail")
        lever_error = (-self.sim.qpos[:, self._lever_adr] - math.pi / 2.0).abs()
        target = self.attr("_target_pos")
        in_place = ops.tolerance(ops.dist(lever, target), 0, 0.04, ops.dist(lever_pos_init, target), "long_tail")
        reward = 10.0 * ops.hamacher_product(ready_to_lift, in_place)
        return reward, lever_error <= math.pi / 24
