"""door-unlock-v3 (``SawyerDoorUnlockEnvV3``) on Warp: push the door's lock lever sideways."""

from __future__ import annotations

import torch

from envs.warp_metaworld import ops
from envs.warp_metaworld.kernel import WarpTaskKernel

_LOCK_LENGTH = 0.1
_SHOULDER_OFFSET = (0.0, 0.055, 0.07)  # metaworld tracks the gripper's shoulder, not its fingers
_SCALE = (0.25, 1.0, 0.5)


class DoorUnlockKernel(WarpTaskKernel):
    task = "door-unlock-v3"

    def __init__(self, sim, attributes) -> None:
        super().__init__(sim, attributes)
        self._lock_start = self.site_id("lockStartUnlock")
        self._door_link = self.body_id("door_link")
        self._lock_link = self.body_id("lock_link")

    def objects(self) -> torch.Tensor:
        return torch.cat([self.site_pos(self._lock_start), self.body_quat(self._door_link)], dim=1)

    def reward(self, obs, action):
        lock = obs[:, 4:7]
        offset, scale = ops.constant(_SHOULDER_OFFSET, lock), ops.constant(_SCALE, lock)
        # obj_init_pos is metaworld's live view of the lock link's xpos
        obj_init = self.body_pos(self._lock_link)
        shoulder_to_lock = ops.norm((obs[:, 0:3] + offset - lock) * scale)
        shoulder_to_lock_init = ops.norm((self.attr("init_tcp") + offset - obj_init) * scale)
        ready_to_push = ops.tolerance(shoulder_to_lock, 0, 0.02, shoulder_to_lock_init, "long_tail")
        obj_to_target = (self.attr("_target_pos")[:, 0] - lock[:, 0]).abs()
        pushed = ops.tolerance(obj_to_target, 0, 0.005, _LOCK_LENGTH, "long_tail")
        return 2 * ready_to_push + 8 * pushed, obj_to_target <= 0.02
