"""door-close-v3 (``SawyerDoorCloseEnvV3``): push the open door shut."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class DoorCloseKernel(TaskKernel):
    task = "door-close-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.geom("handle").id

    def objects(self) -> list[float]:
        return self._geom_xpos[self._handle].tolist() + self.geom_quat(self._handle)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos.tolist()
        tcp_to_target = scalar.dist(self.tcp_center(), target)
        obj_to_target = scalar.dist(obj, target)
        in_place_margin = scalar.dist(env.obj_init_pos.tolist(), target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, in_place_margin, "gaussian")
        # hand_init_pos is float32; metaworld subtracts it from a float64 array, so the difference is float64
        hand_margin = scalar.dist(env.hand_init_pos.tolist(), obj) + 0.1
        hand_in_place = scalar.tolerance(tcp_to_target, 0, 0.25 * _TARGET_RADIUS, hand_margin, "gaussian")
        reward = 3 * hand_in_place + 6 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.08
