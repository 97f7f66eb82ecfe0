"""door-lock-v3 (``SawyerDoorLockEnvV3``): push the door's lock lever down."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_LOCK_LENGTH = 0.1


class DoorLockKernel(TaskKernel):
    task = "door-lock-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._lock_start = self.model.site("lockStartLock").id
        self._door_link = self.model.body("door_link").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._lock_start].tolist() + self.body_quat(self._door_link)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        left_pad = self._xpos[self._leftpad].tolist()
        # init_left_pad is metaworld's live view of the left pad's xpos, so this margin tracks the pad
        init_left_pad = env.init_left_pad.tolist()
        tcp_to_obj = _scaled_norm(obj, left_pad)
        tcp_to_obj_init = _scaled_norm(obj, init_left_pad)
        obj_to_target = abs(float(env._target_pos[2]) - obj[2])
        tcp_opened = max(obs[3], 0.0)
        near_lock = scalar.tolerance(tcp_to_obj, 0, 0.01, tcp_to_obj_init, "long_tail")
        lock_pressed = scalar.tolerance(obj_to_target, 0, 0.005, _LOCK_LENGTH, "long_tail")
        reward = 2 * scalar.hamacher_product(tcp_opened, near_lock) + 8 * lock_pressed
        return float(reward), obj_to_target <= 0.02


def _scaled_norm(a: list[float], b: list[float]) -> float:
    """``np.linalg.norm((a - b) * [0.25, 1.0, 0.5])``."""
    return scalar.norm([(a[0] - b[0]) * 0.25, (a[1] - b[1]) * 1.0, (a[2] - b[2]) * 0.5])
