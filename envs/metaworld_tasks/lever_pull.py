"""lever-pull-v3 (``SawyerLeverPullEnvV3``): lift the lever to point straight up."""

from __future__ import annotations

import math

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

# metaworld scales the shoulder-to-lever error by (4, 1, 4) around an offset that puts the shoulder under the lever
_SCALE = (4.0, 1.0, 4.0)
_OFFSET = (0.0, 0.055, 0.07)


def _shoulder_to_lever(gripper: list[float], lever: list[float]) -> float:
    return scalar.norm([(gripper[i] + _OFFSET[i] - lever[i]) * _SCALE[i] for i in range(3)])

_OBJECT = ObjectSpec(pos=("site", "leverStart"), quat=("geom", "objGeom"))


class LeverPullKernel(TaskKernel):
    task = "lever-pull-v3"
    object_spec = _OBJECT
    _lever_adr = ModelId("qpos", "LeverAxis")

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        lever = obs[4:7]
        lever_pos_init = env._lever_pos_init.tolist()
        ready_to_lift = scalar.tolerance(_shoulder_to_lever(obs[:3], lever), 0, 0.02,
                                         _shoulder_to_lever(env.init_tcp.tolist(), lever_pos_init), "long_tail")
        lever_angle = -self._qpos[self._lever_adr].item()
        lever_error = abs(lever_angle - math.pi / 2.0)
        target = env._target_pos
        in_place = scalar.tolerance(scalar.dist(lever, target), 0, 0.04, scalar.dist(lever_pos_init, target),
                                    "long_tail")
        reward = 10.0 * scalar.hamacher_product(ready_to_lift, in_place)
        return float(reward), lever_error <= math.pi / 24


# metaworld scales the shoulder-to-lever error by (4, 1, 4) around an offset that puts the shoulder under the lever


def _shoulder_to_lever_warp(gripper: torch.Tensor, lever: torch.Tensor) -> torch.Tensor:
    return ops.norm(torch.stack([(gripper[:, i] + _OFFSET[i] - lever[:, i]) * _SCALE[i] for i in range(3)], dim=-1))


class LeverPullWarpKernel(WarpTaskKernel):
    task = "lever-pull-v3"
    object_spec = _OBJECT
    _lever_adr = ModelId("qpos", "LeverAxis")

    def reward(self, obs, action):
        lever = obs[:, 4:7]
        lever_pos_init = self.attr("_lever_pos_init")
        ready_to_lift = ops.tolerance(_shoulder_to_lever_warp(obs[:, :3], lever), 0, 0.02,
                                      _shoulder_to_lever_warp(self.attr("init_tcp"), lever_pos_init), "long_tail")
        lever_error = (-self.sim.qpos[:, self._lever_adr] - math.pi / 2.0).abs()
        target = self.attr("_target_pos")
        in_place = ops.tolerance(ops.dist(lever, target), 0, 0.04, ops.dist(lever_pos_init, target), "long_tail")
        reward = 10.0 * ops.hamacher_product(ready_to_lift, in_place)
        return reward, lever_error <= math.pi / 24
