"""hand-insert-v3 (``SawyerHandInsertEnvV3``): push the block into the hole in the table."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class HandInsertKernel(TaskKernel):
    task = "hand-insert-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.body_quat(self._obj)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.01, obj_radius=0.015,
                                                    pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        if tcp_to_obj < 0.02 and obs[3] > 0:
            reward += 1.0 + 7.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS
