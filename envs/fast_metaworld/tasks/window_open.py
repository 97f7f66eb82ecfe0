"""window-open-v3 (``SawyerWindowOpenEnvV3``): slide the window open by its handle."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05
_HANDLE_RADIUS = 0.02
_NO_QUAT = [0.0, 0.0, 0.0, 0.0]


class WindowOpenKernel(TaskKernel):
    task = "window-open-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site("handleOpenStart").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._handle].tolist() + _NO_QUAT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        target = env._target_pos
        # metaworld reads the handle from the simulator, not from the (clipped) observation
        handle = self._site_xpos[self._handle].tolist()
        target_to_obj = abs(handle[0] - target[0])
        target_to_obj_init = abs(env.obj_init_pos[0] - target[0])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(handle, self.tcp_center())
        tcp_to_obj_init = scalar.dist(env.window_handle_pos_init, env.init_tcp)
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, abs(tcp_to_obj_init - _HANDLE_RADIUS), "long_tail")
        return 10 * scalar.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS
