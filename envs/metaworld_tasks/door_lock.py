"""door-lock-v3 (``SawyerDoorLockEnvV3``): push the door's lock lever down."""

from __future__ import annotations

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_LOCK_LENGTH = 0.1

_OBJECT = ObjectSpec(pos=("site", "lockStartLock"), quat=("body", "door_link"))


class DoorLockKernel(TaskKernel):
    task = "door-lock-v3"
    object_spec = _OBJECT

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


_SCALE = (0.25, 1.0, 0.5)


class DoorLockWarpKernel(WarpTaskKernel):
    task = "door-lock-v3"
    object_spec = _OBJECT

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
