"""push-wall-v3 (``SawyerPushWallEnvV3``): push the block around the wall to the goal."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05
_MIDPOINT_XY = (-0.05, 0.77)  # past the wall's end: the first leg of the path


def _dist_to_midpoint(pos: list[float], z: float) -> float:
    """``np.linalg.norm((pos - [-0.05, 0.77, z]) * [3, 1, 1])``."""
    x, y, dz = (pos[0] - _MIDPOINT_XY[0]) * 3.0, pos[1] - _MIDPOINT_XY[1], pos[2] - z
    return math.sqrt(x * x + y * y + dz * dz)


class PushWallKernel(TaskKernel):
    task = "push-wall-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj_geom = self.model.geom("objGeom").id

    def objects(self) -> list[float]:
        return self._geom_xpos[self._obj_geom].tolist() + self.geom_quat(self._obj_geom)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_opened = obs[3]
        target = env._target_pos.tolist()
        obj_init_pos = env.obj_init_pos.tolist()
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        # the midpoint is at the block's current height, for the initial position too
        obj_to_midpoint = _dist_to_midpoint(obj, obj[2])
        obj_to_midpoint_init = _dist_to_midpoint(obj_init_pos, obj[2])
        obj_to_target = scalar.dist(obj, target)
        obj_to_target_init = scalar.dist(obj_init_pos, target)
        in_place_part1 = scalar.tolerance(obj_to_midpoint, 0, _TARGET_RADIUS, obj_to_midpoint_init, "long_tail")
        in_place_part2 = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, obj_to_target_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = 2 * object_grasped
        if tcp_to_obj < 0.02 and tcp_opened > 0:
            reward = 2.0 * object_grasped + 1.0 + 4.0 * in_place_part1
            if obj[1] > 0.75:
                reward = 2 * object_grasped + 1.0 + 4.0 + 3.0 * in_place_part2
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07
