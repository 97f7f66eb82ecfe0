"""door-lock-v3 (``SawyerDoorLockEnvV3``) on Warp: push the door's lock lever down."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_LOCK_LENGTH = 0.1
_SCALE = (0.25, 1.0, 0.5)


class DoorLockKernel(WarpTaskKernel):
    task = "door-lock-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._lock_start = self.site_id("lockStartLock")
        self._door_link = self.body_id("door_link")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._lock_start), self.body_quat(self._door_link)], dim=1)

    def reward(self, obs, action):
        obj = obs[:, 4:7]
        scale = ops.constant(_SCALE, obj)
        # init_left_pad is metaworld's live view of the left pad's xpos: both distances are to the current pad
        left_pad = self.body_pos(self._leftpad)
        tcp_to_obj = ops.norm((obj - left_pad) * scale)
        obj_to_target = (self.attr("_target_pos")[:, 2] - obj[:, 2]).abs()
        tcp_opened = obs[:, 3].clamp(min=0.0)
        near_lock = ops.tolerance(tcp_to_obj, 0, 0.01, tcp_to_obj, "long_tail")
        lock_pressed = ops.tolerance(obj_to_target, 0, 0.005, _LOCK_LENGTH, "long_tail")
        reward = 2 * ops.hamacher_product(tcp_opened, near_lock) + 8 * lock_pressed
        return reward, obj_to_target <= 0.02
