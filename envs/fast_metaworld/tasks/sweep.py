"""sweep-v3 (``SawyerSweepEnvV3``): sweep the puck off the table's edge."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel
from envs.fast_metaworld.tasks._y_gripping_caging import y_gripping_caging_reward

_OBJ_RADIUS = 0.02
_TARGET_RADIUS = 0.05


class SweepKernel(TaskKernel):
    task = "sweep-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.body_quat(self._obj)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        obj_to_target = scalar.dist(obj, target)
        in_place_margin = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.01, x_z_success_margin=0.005)
        reward = (2 * object_grasped) + (6 * scalar.hamacher_product(object_grasped, in_place))
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= _TARGET_RADIUS
