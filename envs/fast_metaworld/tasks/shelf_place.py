"""shelf-place-v3 (``SawyerShelfPlaceEnvV3``): pick up the block and place it on the shelf."""

from __future__ import annotations

import numpy as np

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class ShelfPlaceKernel(TaskKernel):
    task = "shelf-place-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id
        self._obj_geom = self.model.geom("objGeom").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.geom_quat(self._obj_geom)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        obj_to_target = scalar.dist(obj, target)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        in_place_margin = scalar.dist(obj_init_pos, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.02, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.01)
        reward = scalar.hamacher_product(object_grasped, in_place)
        # below the shelf, in front of the goal: in_place is cut, and zeroed once the block is past the goal in y
        below_shelf_in_x = 0.0 < obj[2] < 0.24 and target[0] - 0.15 < obj[0] < target[0] + 0.15
        if below_shelf_in_x and (target[1] - 3 * _TARGET_RADIUS) < obj[1] < target[1]:
            z_scaling = (0.24 - obj[2]) / 0.24
            y_scaling = (obj[1] - (target[1] - 3 * _TARGET_RADIUS)) / (3 * _TARGET_RADIUS)
            bound_loss = scalar.hamacher_product(y_scaling, z_scaling)
            # metaworld's np.clip returns an np.float64, which (unlike a Python float) promotes the float32 grasp
            # reward it is added to below: keep that rounding
            in_place = np.float64(min(max(in_place - bound_loss, 0.0), 1.0))
        if below_shelf_in_x and obj[1] > target[1]:
            in_place = 0.0
        if tcp_to_obj < 0.025 and tcp_opened > 0 and obj[2] - 0.01 > obj_init_pos[2]:
            reward += 1.0 + 5.0 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07
