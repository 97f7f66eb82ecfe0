"""window-close-v3 (``SawyerWindowCloseEnvV3``): slide the window closed by its handle."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05
_HANDLE_RADIUS = 0.02
_NO_QUAT = [0.0, 0.0, 0.0, 0.0]


class WindowCloseKernel(TaskKernel):
    task = "window-close-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site("handleCloseStart").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._handle].tolist() + _NO_QUAT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        target = env._target_pos
        handle_init = env.window_handle_pos_init
        # metaworld reads the handle from the simulator, not from the (clipped) observation
        handle = self._site_xpos[self._handle].tolist()
        target_to_obj = abs(handle[0] - target[0])
        target_to_obj_init = abs(handle_init[0] - target[0])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(handle, self.tcp_center())
        tcp_to_obj_init = scalar.dist(handle_init, env.init_tcp)
        # unlike window-open, the reach term is gaussian
        reach = scalar.tolerance(tcp_to_obj, 0, _HANDLE_RADIUS, abs(tcp_to_obj_init - _HANDLE_RADIUS), "gaussian")
        return 10 * scalar.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS
