"""The window family: slide the window open (``window-open``, ``SawyerWindowOpenEnvV3``) or closed
(``window-close``, ``SawyerWindowCloseEnvV3``) by its handle; :class:`WindowVariant` holds what differs."""

from __future__ import annotations

from dataclasses import dataclass

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05
_HANDLE_RADIUS = 0.02


@dataclass(frozen=True)
class WindowVariant:
    """What one task of the family sets.

    Attributes:
        task: the v3 task name.
        objects: the handle site the observation reports (no orientation); the reward reads it from the simulator,
            not from the (clipped) observation, as metaworld does.
        start: the episode attribute the in-place margin measures from (``obj_init_pos`` or the handle's).
        reach_sigmoid: the reach term's shape (``long_tail`` for open, ``gaussian`` for close).
    """

    task: str
    objects: ObjectSpec
    start: str
    reach_sigmoid: str


OPEN = WindowVariant("window-open-v3", ObjectSpec(pos=("site", "handleOpenStart")), "obj_init_pos", "long_tail")
CLOSE = WindowVariant("window-close-v3", ObjectSpec(pos=("site", "handleCloseStart")), "window_handle_pos_init",
                      "gaussian")


class WindowKernel(TaskKernel):
    variant: WindowVariant

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env, v = self.env, self.variant
        target = env._target_pos
        handle = self._object_pos.tolist()
        target_to_obj = abs(handle[0] - target[0])
        target_to_obj_init = abs(getattr(env, v.start)[0] - target[0])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(handle, self.tcp_center())
        tcp_to_obj_init = scalar.dist(env.window_handle_pos_init, env.init_tcp)
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, abs(tcp_to_obj_init - _HANDLE_RADIUS),
                                 v.reach_sigmoid)
        return 10 * scalar.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS


class WindowWarpKernel(WarpTaskKernel):
    variant: WindowVariant

    def reward(self, obs, action):
        v = self.variant
        target = self.attr("_target_pos")
        handle = self.sim.site_xpos[:, self._object_pos[1]]
        target_to_obj = (handle[:, 0] - target[:, 0]).abs()
        target_to_obj_init = (self.attr(v.start)[:, 0] - target[:, 0]).abs()
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(handle, self.tcp_center())
        tcp_to_obj_init = ops.dist(self.attr("window_handle_pos_init"), self.attr("init_tcp"))
        reach = ops.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, (tcp_to_obj_init - _HANDLE_RADIUS).abs(), v.reach_sigmoid)
        return 10 * ops.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS
