"""button-press-wall-v3 (``SawyerButtonPressWallEnvV3``): press a button in along y, behind a wall."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel


class ButtonPressWallKernel(TaskKernel):
    task = "button-press-wall-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._button = self.model.body("button").id

    def objects(self) -> list[float]:
        x, y, z = self.body_pos(self._button)
        return [x, y - 0.193, z] + self.body_quat(self._button)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        tcp_to_obj_init = scalar.dist(obj, env.init_tcp)
        obj_to_target = abs(env._target_pos[1] - obj[1])
        near_button = scalar.tolerance(tcp_to_obj, 0, 0.01, tcp_to_obj_init, "long_tail")
        button_pressed = scalar.tolerance(obj_to_target, 0, 0.005, env._obj_to_target_init, "long_tail")
        if tcp_to_obj > 0.07:
            tcp_status = (1 - obs[3]) / 2.0
            reward = 2 * scalar.hamacher_product(tcp_status, near_button)
        else:
            reward = 2 + 2 * (1 + obs[3]) + 4 * button_pressed**2
        return float(reward), obj_to_target <= 0.03
