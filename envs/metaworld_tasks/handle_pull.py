"""The handle-pull family: pull a handle up to the goal height (``handle-pull``, ``SawyerHandlePullEnvV3``) or to
the goal point (``handle-pull-side``, ``SawyerHandlePullSideEnvV3``); :class:`HandlePullVariant` holds what differs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05


@dataclass(frozen=True)
class HandlePullVariant:
    """What one task of the family sets.

    Attributes:
        task: the v3 task name.
        objects: the handle site the observation reports (no orientation).
        height_only: the distance to the target is the height difference (else the 3D distance).
        pad_success_thresh, obj_radius: the grasp reward's arguments.
        lift_axis: the handle coordinate metaworld compares with the initial height (handle-pull uses y: kept).
        success: the handle is at the goal when at most this far from it.
    """

    task: str
    objects: ObjectSpec
    height_only: bool
    pad_success_thresh: float
    obj_radius: float
    lift_axis: int
    success: float


PULL = HandlePullVariant("handle-pull-v3", ObjectSpec(pos=("site", "handleRight")), True, 0.05, 0.022, 1,
                         _TARGET_RADIUS)
PULL_SIDE = HandlePullVariant("handle-pull-side-v3", ObjectSpec(pos=("site", "handleCenter")), False, 0.06, 0.032, 2,
                              0.08)  # success uses a wider radius than the reward's 10-point bonus


class HandlePullKernel(TaskKernel):
    variant: HandlePullVariant

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env, v = self.env, self.variant
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        if v.height_only:
            target_to_obj = abs(target[2] - obj[2])
            target_to_obj_init = abs(target[2] - obj_init_pos[2])
        else:
            target_to_obj = scalar.dist(obj, target)
            target_to_obj_init = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, pad_success_thresh=v.pad_success_thresh,
                                                    obj_radius=v.obj_radius, object_reach_radius=0.01,
                                                    xz_thresh=0.01, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        if tcp_to_obj < 0.035 and obs[3] > 0 and obj[v.lift_axis] - 0.01 > obj_init_pos[2]:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= v.success


class HandlePullWarpKernel(WarpTaskKernel):
    variant: HandlePullVariant

    def reward(self, obs, action):
        v = self.variant
        obj = obs[:, 4:7]
        target, obj_init_pos = self.attr("_target_pos"), self.attr("obj_init_pos")
        if v.height_only:
            target_to_obj = (target[:, 2] - obj[:, 2]).abs()
            target_to_obj_init = (target[:, 2] - obj_init_pos[:, 2]).abs()
        else:
            target_to_obj = ops.dist(obj, target)
            target_to_obj_init = ops.dist(obj_init_pos, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, pad_success_thresh=v.pad_success_thresh,
                                                    obj_radius=v.obj_radius, object_reach_radius=0.01,
                                                    xz_thresh=0.01, high_density=True)
        reward = ops.hamacher_product(object_grasped, in_place)
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        lifted = (tcp_to_obj < 0.035) & (obs[:, 3] > 0) & (obj[:, v.lift_axis] - 0.01 > obj_init_pos[:, 2])
        reward = torch.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
        reward = torch.where(target_to_obj < _TARGET_RADIUS, torch.full_like(reward, 10.0), reward)
        return reward, target_to_obj <= v.success
