"""plate-slide-v3 and its side, back and back-side variants (``SawyerPlateSlide*EnvV3``): slide the puck to the goal."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class _PlateSlideBase(TaskKernel):
    """The puck's pose and the two distances every plate-slide reward uses."""

    def __init__(self, env) -> None:
        super().__init__(env)
        self._puck = self.model.geom("puck").id

    def objects(self) -> list[float]:
        return self._geom_xpos[self._puck].tolist() + self.geom_quat(self._puck)


class PlateSlideKernel(_PlateSlideBase):
    task = "plate-slide-v3"

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        obj_to_target = scalar.dist(obj, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS, scalar.dist(obj_init_pos, target), "long_tail")
        object_grasped = scalar.tolerance(scalar.dist(self.tcp_center(), obj), 0, _TARGET_RADIUS,
                                          scalar.dist(env.init_tcp, obj_init_pos), "long_tail")
        reward = 8 * scalar.hamacher_product(object_grasped, in_place)
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class _PlateSlideOtherKernel(_PlateSlideBase):
    """The reward of the side, back and back-side variants: margins shrunk by the target radius, and a bonus once
    the gripper is down at the puck."""

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        tcp = self.tcp_center()
        obj_to_target = scalar.dist(obj, target)
        in_place = scalar.tolerance(obj_to_target, 0, _TARGET_RADIUS,
                                    scalar.dist(obj_init_pos, target) - _TARGET_RADIUS, "long_tail")
        tcp_to_obj = scalar.dist(tcp, obj)
        object_grasped = scalar.tolerance(tcp_to_obj, 0, _TARGET_RADIUS,
                                          scalar.dist(env.init_tcp, obj_init_pos) - _TARGET_RADIUS, "long_tail")
        reward = 1.5 * object_grasped
        if tcp[2] <= 0.03 and tcp_to_obj < 0.07:
            reward = 2.0 + 7.0 * in_place
        if obj_to_target < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), obj_to_target <= 0.07


class PlateSlideSideKernel(_PlateSlideOtherKernel):
    task = "plate-slide-side-v3"


class PlateSlideBackKernel(_PlateSlideOtherKernel):
    task = "plate-slide-back-v3"


class PlateSlideBackSideKernel(_PlateSlideOtherKernel):
    task = "plate-slide-back-side-v3"
