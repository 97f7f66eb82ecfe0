"""reach-v3 (``SawyerReachEnvV3``): move the gripper's centre to the goal."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class ReachKernel(TaskKernel):
    task = "reach-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id
        self._obj_geom = self.model.geom("objGeom").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.geom_quat(self._obj_geom)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        target = env._target_pos.tolist()
        tcp_to_target = scalar.dist(self.tcp_center(), target)
        in_place_margin = scalar.dist(env.hand_init_pos.tolist(), target)
        in_place = scalar.tolerance(tcp_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        return 10 * in_place, tcp_to_target <= 0.05
