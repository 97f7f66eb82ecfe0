"""push-back-v3 (``SawyerPushBackEnvV3``): push the block back to the goal."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel
from envs.fast_metaworld.tasks._y_gripping_caging import y_gripping_caging_reward

_OBJ_RADIUS = 0.007
_TARGET_RADIUS = 0.05


class PushBackKernel(TaskKernel):
    task = "push-back-v3"

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
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = y_gripping_caging_reward(self, obj, _OBJ_RADIUS, grip_extra=0.003, x_z_success_margin=0.01)
        reward = scalar.hamacher_product(object_grasped, in_place)
        if tcp_to_obj < 0.01 and 0 < tcp_opened < 0.55 and target_to_obj_init - target_to_obj > 0.01:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= 0.07
