"""button-press-topdown-v3 (``SawyerButtonPressTopdownEnvV3``) on Warp: press the button down from above."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_BUTTON_TOP_OFFSET = 0.193  # the observation reports the button's top, this far above the body's origin


class ButtonPressTopdownKernel(WarpTaskKernel):
    task = "button-press-topdown-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._button = self.body_id("button")

    def objects(self) -> torch.Tensor:
        pos = self.body_pos(self._button)
        top = torch.stack([pos[:, 0], pos[:, 1], pos[:, 2] + _BUTTON_TOP_OFFSET], dim=1)
        return torch.cat([top, self.body_quat(self._button)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(obj, self.attr("init_tcp"))  # metaworld measures from the current button
        obj_to_target = (self.attr("_target_pos")[:, 2] - obj[:, 2]).abs()
        near_button = ops.tolerance(tcp_to_obj, 0, 0.01, tcp_to_obj_init, "long_tail")
        button_pressed = ops.tolerance(obj_to_target, 0, 0.005, self.attr("_obj_to_target_init"), "long_tail")
        reward = 5 * ops.hamacher_product(1 - obs[:, 3], near_button)
        reward = torch.where(tcp_to_obj <= 0.03, reward + 5 * button_pressed, reward)
        return reward, obj_to_target <= 0.024
