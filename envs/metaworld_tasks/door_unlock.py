"""door-unlock-v3 (``SawyerDoorUnlockEnvV3``): push the door's lock lever sideways."""

from __future__ import annotations

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_LOCK_LENGTH = 0.1
_SHOULDER_OFFSET = (0.0, 0.055, 0.07)  # metaworld tracks the gripper's shoulder, not its fingers
_SCALE = (0.25, 1.0, 0.5)

_OBJECT = ObjectSpec(pos=("site", "lockStartUnlock"), quat=("body", "door_link"))


class DoorUnlockKernel(TaskKernel):
    task = "door-unlock-v3"
    object_spec = _OBJECT

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


class DoorUnlockWarpKernel(WarpTaskKernel):
    task = "door-unlock-v3"
    object_spec = _OBJECT
    _lock_link = ModelId("body", "lock_link")

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
