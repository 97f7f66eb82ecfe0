"""bin-picking-v3 (``SawyerBinPickingEnvV3``): move the cube from one bin to the other."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class BinPickingKernel(TaskKernel):
    task = "bin-picking-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.body_quat(self._obj)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        hand = obs[0:3]
        obj = obs[4:7]
        target = env._target_pos
        obj_init = env.obj_init_pos
        target_to_obj = scalar.dist(obj, target)
        # metaworld fixes the in-place margin at the first step of the episode, on the env
        if env._target_to_obj_init is None:
            env._target_to_obj_init = target_to_obj
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, env._target_to_obj_init, "long_tail")

        # the floor is a pair of funnels centred on the object's start and on the target: it keeps the hand above
        # the bins' edges
        threshold = 0.03
        floor = min(0.02 * math.log(radius - threshold) + 0.2 if radius > threshold else 0.0
                    for radius in (scalar.dist2(hand, obj_init), scalar.dist2(hand, target)))
        if hand[2] >= floor:
            above_floor = 1.0
        else:
            above_floor = scalar.tolerance(max(floor - hand[2], 0.0), 0.0, 0.01, 0.05, "long_tail")

        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.015, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01,
                                                    desired_gripper_effort=0.7, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        near_object = scalar.dist(obj, hand) < 0.04
        pinched_without_obj = obs[3] < 0.43
        lifted = obj[2] - 0.02 > obj_init[2]
        if near_object and lifted and not pinched_without_obj:
            reward += 1.0 + 5.0 * scalar.hamacher_product(above_floor, in_place)
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= 0.05
