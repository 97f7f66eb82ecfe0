"""The sweep family: sweep the puck off the table's edge (``sweep``, ``SawyerSweepEnvV3``) or into the hole
(``sweep-into``, ``SawyerSweepIntoGoalEnvV3``); :class:`SweepVariant` holds what differs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks._y_gripping_caging import y_gripping_caging_reward, y_gripping_caging_warp
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_OBJ_RADIUS = 0.02
_TARGET_RADIUS = 0.05


@dataclass(frozen=True)
class SweepVariant:
    """What one task of the family sets.

    Attributes:
        task: the v3 task name.
        objects: the puck's position and orientation in the observation.
        goal_at_puck_height: the goal is taken at the puck's current height (for the distance and the margin).
        grip_extra, x_z_success_margin: the y-gripping caging reward's arguments.
    """

    task: str
    objects: ObjectSpec
    goal_at_puck_height: bool
    grip_extra: float
    x_z_success_margin: float


SWEEP = SweepVariant("sweep-v3", ObjectSpec(pos=("body", "obj"), quat=("body", "obj")), False, 0.01, 0.005)
SWEEP_INTO = SweepVariant("sweep-into-v3", ObjectSpec(pos=("body", "obj"), quat=("geom", "objGeom")), True, 0.005,
                          0.01)


class SweepKernel(TaskKernel):
    variant: SweepVariant

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env, v = self.env, self.variant
        obj = obs[4:7]
        target = env._target_pos.tolist()
        if v.goal_at_puck_height:
            target = [target[0], target[1], obj[2]]
        obj_to_target = scalar.dist(obj, target)
        in_place_margin = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=v.grip_extra,
                                                  x_z_success_margin=v.x_z_success_margin)
        reward = (2 * object_grasped) + (6 * scalar.hamacher_product(object_grasped, in_place))
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= _TARGET_RADIUS


class SweepWarpKernel(WarpTaskKernel):
    variant: SweepVariant

    def reward(self, obs, action):
        v = self.variant
        obj = obs[:, 4:7]
        target = self.attr("_target_pos")
        if v.goal_at_puck_height:
            target = torch.cat([target[:, :2], obj[:, 2:3]], dim=1)
        obj_to_target = ops.dist(obj, target)
        in_place_margin = ops.dist(self.attr("obj_init_pos"), target)
        in_place = ops.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = y_gripping_caging_warp(self, obj, _OBJ_RADIUS, grip_extra=v.grip_extra,
                                                x_z_success_margin=v.x_z_success_margin)
        reward = (2 * object_grasped) + (6 * ops.hamacher_product(object_grasped, in_place))
        reward = torch.where(obj_to_target < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, obj_to_target <= _TARGET_RADIUS
