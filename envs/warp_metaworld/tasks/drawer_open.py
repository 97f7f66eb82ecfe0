"""drawer-open-v3 (``SawyerDrawerOpenEnvV3``) on Warp: pull the drawer open by its handle."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_MAX_DIST = 0.2  # the env's maxDist: how far the drawer opens
_SCALE = (3.0, 3.0, 1.0)  # the caging error weighs x and y more than z


class DrawerOpenKernel(WarpTaskKernel):
    task = "drawer-open-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._drawer_link = self.body_id("drawer_link")

    def objects(self) -> torch.Tensor:
        pos = self.body_pos(self._drawer_link)
        handle = torch.stack([pos[:, 0], pos[:, 1] - 0.16, pos[:, 2]], dim=1)
        return torch.cat([handle, self.body_quat(self._drawer_link)], dim=1)

    def reward(self, obs, action):
        gripper, handle = obs[:, 0:3], obs[:, 4:7]
        target = self.attr("_target_pos")
        handle_error = ops.dist(handle, target)
        reward_for_opening = ops.tolerance(handle_error, 0, 0.02, _MAX_DIST, "long_tail")
        handle_pos_init = target + ops.constant([0.0, _MAX_DIST, 0.0], target)
        scale = ops.constant(_SCALE, target)
        gripper_error = (handle - gripper) * scale
        gripper_error_init = (handle_pos_init - self.attr("init_tcp")) * scale
        reward_for_caging = ops.tolerance(ops.norm(gripper_error), 0, 0.01, ops.norm(gripper_error_init),
                                          "long_tail")
        return (reward_for_caging + reward_for_opening) * 5.0, handle_error <= 0.03
