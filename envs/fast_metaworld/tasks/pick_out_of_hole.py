"""pick-out-of-hole-v3 (``SawyerPickOutOfHoleEnvV3``): pick the peg out of the hole and take it to the goal."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class PickOutOfHoleKernel(TaskKernel):
    task = "pick-out-of-hole-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.body_quat(self._obj)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init = env.obj_init_pos
        gripper = self.tcp_center()
        obj_to_target = scalar.dist(obj, target)
        tcp_to_obj = scalar.dist(obj, gripper)
        in_place_margin = scalar.dist(obj_init, target)

        # the floor is a funnel centred on the object's start: it keeps the hand off the hole's edge
        radius = scalar.dist2(gripper, obj_init)
        floor = 0.0 if radius <= 0.03 else 0.015 * math.log(radius - 0.03) + 0.15
        if gripper[2] >= floor:
            above_floor = 1.0
        else:
            above_floor = scalar.tolerance(max(floor - gripper[2], 0.0), 0.0, 0.01, 0.02, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.02, xz_thresh=0.03,
                                                    desired_gripper_effort=0.1, high_density=True)
        in_place = scalar.tolerance(obj_to_target, 0, 0.02, in_place_margin, "long_tail")
        reward = scalar.hamacher_product(object_grasped, in_place)

        near_object = tcp_to_obj < 0.04
        pinched_without_obj = obs[3] < 0.33
        lifted = obj[2] - 0.02 > obj_init[2]
        if near_object and lifted and not pinched_without_obj:
            reward += 1.0 + 5.0 * scalar.hamacher_product(in_place, above_floor)
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07
