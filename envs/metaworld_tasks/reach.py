"""reach-v3 (``SawyerReachEnvV3``): move the gripper's centre to the goal."""

from __future__ import annotations

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.05

_OBJECT = ObjectSpec(pos=("body", "obj"), quat=("geom", "objGeom"))


class ReachKernel(TaskKernel):
    task = "reach-v3"
    object_spec = _OBJECT

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        target = env._target_pos.tolist()
        tcp_to_target = scalar.dist(self.tcp_center(), target)
        in_place_margin = scalar.dist(env.hand_init_pos.tolist(), target)
        in_place = scalar.tolerance(tcp_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        return 10 * in_place, tcp_to_target <= 0.05


class ReachWarpKernel(WarpTaskKernel):
    task = "reach-v3"
    object_spec = _OBJECT

    def reward(self, obs, action):
        target = self.attr("_target_pos")
        tcp_to_target = ops.dist(self.tcp_center(), target)
        in_place_margin = ops.dist(self.attr("hand_init_pos"), target)
        in_place = ops.tolerance(tcp_to_target, 0, _TARGET_RADIUS, in_place_margin, "long_tail")
        return 10 * in_place, tcp_to_target <= 0.05
