"""button-press-topdown-v3 (``SawyerButtonPressTopdownEnvV3``): press the button down from above."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_BUTTON_TOP_OFFSET = 0.193  # the observation reports the button's top, this far above the body's origin


class ButtonPressTopdownKernel(TaskKernel):
    task = "button-press-topdown-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._button = self.model.body("button").id

    def objects(self) -> list[float]:
        x, y, z = self.body_pos(self._button)
        return [x, y, z + _BUTTON_TOP_OFFSET] + self.body_quat(self._button)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        tcp_to_obj_init = scalar.dist(obj, env.init_tcp)
        obj_to_target = abs(env._target_pos[2] - obj[2])
        near_button = scalar.tolerance(tcp_to_obj, 0, 0.01, tcp_to_obj_init, "long_tail")
        button_pressed = scalar.tolerance(obj_to_target, 0, 0.005, env._obj_to_target_init, "long_tail")
        reward = 5 * scalar.hamacher_product(1 - obs[3], near_button)
        if tcp_to_obj <= 0.03:
            reward += 5 * button_pressed
        return float(reward), obj_to_target <= 0.024
