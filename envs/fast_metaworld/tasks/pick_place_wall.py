"""pick-place-wall-v3 (``SawyerPickPlaceWallEnvV3``): pick the puck up, lift it over the wall, place it at the goal."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


def _to_midpoint(pos, midpoint: list[float]) -> float:
    """``norm((pos - midpoint) * (1, 1, 3))``: the height above the wall weighs three times."""
    return scalar.norm([pos[0] - midpoint[0], pos[1] - midpoint[1], (pos[2] - midpoint[2]) * 3.0])


class PickPlaceWallKernel(TaskKernel):
    task = "pick-place-wall-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj_geom = self.model.geom("objGeom").id

    def objects(self) -> list[float]:
        return self._geom_xpos[self._obj_geom].tolist() + self.geom_quat(self._obj_geom)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        midpoint = [target[0], 0.77, 0.25]  # above the wall
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        obj_to_target = scalar.dist(obj, target)
        in_place_part1 = scalar.tolerance(_to_midpoint(obj, midpoint), 0, _TARGET_RADIUS,
                                          _to_midpoint(obj_init_pos, midpoint), "long_tail")
        in_place_part2 = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, scalar.dist(obj_init_pos, target),
                                          "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, obj_radius=0.015, pad_success_thresh=0.05,
                                                    object_reach_radius=0.01, xz_thresh=0.005)
        in_place_and_object_grasped = scalar.hamacher_product(object_grasped, in_place_part1)
        reward = in_place_and_object_grasped
        if tcp_to_obj < 0.02 and obs[3] > 0 and obj[2] - 0.015 > obj_init_pos[2]:
            reward = in_place_and_object_grasped + 1.0 + 4.0 * in_place_part1
            if obj[1] > 0.75:
                reward = in_place_and_object_grasped + 1.0 + 4.0 + 3.0 * in_place_part2
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07
