"""door-unlock-v3 (``SawyerDoorUnlockEnvV3``): push the door's lock lever sideways."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_LOCK_LENGTH = 0.1
_SHOULDER_OFFSET = (0.0, 0.055, 0.07)  # metaworld tracks the gripper's shoulder, not its fingers
_SCALE = (0.25, 1.0, 0.5)


class DoorUnlockKernel(TaskKernel):
    task = "door-unlock-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._lock_start = self.model.site("lockStartUnlock").id
        self._door_link = self.model.body("door_link").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._lock_start].tolist() + self.body_quat(self._door_link)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        lock = obs[4:7]
        init_tcp = env.init_tcp.tolist()
        # obj_init_pos is metaworld's live view of the lock link's xpos
        obj_init = env.obj_init_pos.tolist()
        shoulder_to_lock = scalar.norm([(obs[i] + _SHOULDER_OFFSET[i] - lock[i]) * _SCALE[i] for i in range(3)])
        shoulder_to_lock_init = scalar.norm([(init_tcp[i] + _SHOULDER_OFFSET[i] - obj_init[i]) * _SCALE[i]
                                             for i in range(3)])
        ready_to_push = scalar.tolerance(shoulder_to_lock, 0, 0.02, shoulder_to_lock_init, "long_tail")
        obj_to_target = abs(float(env._target_pos[0]) - lock[0])
        pushed = scalar.tolerance(obj_to_target, 0, 0.005, _LOCK_LENGTH, "long_tail")
        return float(2 * ready_to_push + 8 * pushed), obj_to_target <= 0.02
