"""button-press-wall-v3 (``SawyerButtonPressWallEnvV3``) on Warp: press a button in along y, behind a wall."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel


class ButtonPressWallKernel(WarpTaskKernel):
    task = "button-press-wall-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._button = self.body_id("button")

    def objects(self) -> torch.Tensor:
        pos = self.body_pos(self._button)
        return torch.cat([pos[:, :1], pos[:, 1:2] - 0.193, pos[:, 2:], self.body_quat(self._button)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(obj, self.attr("init_tcp"))
        obj_to_target = (self.attr("_target_pos")[:, 1] - obj[:, 1]).abs()
        near_button = ops.tolerance(tcp_to_obj, 0, 0.01, tcp_to_obj_init, "long_tail")
        button_pressed = ops.tolerance(obj_to_target, 0, 0.005, self.attr("_obj_to_target_init"), "long_tail")
        far = 2 * ops.hamacher_product((1 - obs[:, 3]) / 2.0, near_button)
        near = 2 + 2 * (1 + obs[:, 3]) + 4 * button_pressed**2
        return torch.where(tcp_to_obj > 0.07, far, near), obj_to_target <= 0.03
