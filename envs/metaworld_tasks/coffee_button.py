"""coffee-button-v3 (``SawyerCoffeeButtonEnvV3``): press the coffee machine's button."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel


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


class CoffeeButtonWarpKernel(WarpTaskKernel):
    task = "coffee-button-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._button_start = self.site_id("buttonStart")

    def objects(self) -> torch.Tensor:
        pos = self.site_pos(self._button_start)
        quat = torch.zeros((pos.shape[0], 4), dtype=pos.dtype, device=pos.device)
        quat[:, 0] = 1.0
        return torch.cat([pos, quat], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(obj, self.attr("init_tcp"))
        obj_to_target = (self.attr("_target_pos")[:, 1] - obj[:, 1]).abs()
        tcp_closed = obs[:, 3].clamp(min=0.0)
        near_button = ops.tolerance(tcp_to_obj, 0, 0.05, tcp_to_obj_init, "long_tail")
        button_pressed = ops.tolerance(obj_to_target, 0, 0.005, self.attr("max_dist"), "long_tail")
        reward = 2 * ops.hamacher_product(tcp_closed, near_button)
        reward = torch.where(tcp_to_obj <= 0.05, reward + 8 * button_pressed, reward)
        return reward, obj_to_target <= 0.02
