"""coffee-button-v3 (``SawyerCoffeeButtonEnvV3``): press the coffee machine's button."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel


class CoffeeButtonKernel(TaskKernel):
    task = "coffee-button-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._button_start = self.model.site("buttonStart").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._button_start].tolist() + [1.0, 0.0, 0.0, 0.0]

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        tcp_to_obj_init = scalar.dist(obj, env.init_tcp)
        obj_to_target = abs(env._target_pos[1] - obj[1])
        tcp_closed = max(obs[3], 0.0)
        near_button = scalar.tolerance(tcp_to_obj, 0, 0.05, tcp_to_obj_init, "long_tail")
        button_pressed = scalar.tolerance(obj_to_target, 0, 0.005, env.max_dist, "long_tail")
        reward = 2 * scalar.hamacher_product(tcp_closed, near_button)
        if tcp_to_obj <= 0.05:
            reward += 8 * button_pressed
        return float(reward), obj_to_target <= 0.02
