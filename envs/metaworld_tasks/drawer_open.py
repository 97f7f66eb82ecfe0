"""drawer-open-v3 (``SawyerDrawerOpenEnvV3``): pull the drawer open by its handle."""

from __future__ import annotations

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_MAX_DIST = 0.2  # the env's maxDist: how far the drawer opens
_SCALE = (3.0, 3.0, 1.0)  # the caging error weighs x and y more than z
# the observation reports the handle, offset from the drawer link's origin
_HANDLE = ObjectSpec(pos=("body", "drawer_link"), quat=("body", "drawer_link"), offset=(0.0, -0.16, 0.0))


class DrawerOpenKernel(TaskKernel):
    task = "drawer-open-v3"
    object_spec = _HANDLE

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        gripper = obs[0:3]
        handle = obs[4:7]
        target = env._target_pos.tolist()
        handle_error = scalar.dist(handle, target)
        reward_for_opening = scalar.tolerance(handle_error, 0, 0.02, _MAX_DIST, "long_tail")

        handle_pos_init = [target[0], target[1] + _MAX_DIST, target[2]]
        init_tcp = env.init_tcp.tolist()
        gripper_error = [(handle[i] - gripper[i]) * _SCALE[i] for i in range(3)]
        gripper_error_init = [(handle_pos_init[i] - init_tcp[i]) * _SCALE[i] for i in range(3)]
        reward_for_caging = scalar.tolerance(scalar.norm(gripper_error), 0, 0.01, scalar.norm(gripper_error_init),
                                             "long_tail")
        reward = (reward_for_caging + reward_for_opening) * 5.0
        return reward, handle_error <= 0.03


class DrawerOpenWarpKernel(WarpTaskKernel):
    task = "drawer-open-v3"
    object_spec = _HANDLE

    def reward(self, obs, action):
        gripper, handle = obs[:, 0:3], obs[:, 4:7]
        target = self.attr("_target_pos")
        handle_error = ops.dist(handle, target)
        reward_for_opening = ops.tolerance(handle_error, 0, 0.02, _MAX_DIST, "long_tail")
        handle_pos_init = target + ops.constant([0.0, _MAX_DIST, 0.0], target)
        scale = ops.constant(_SCALE, target)
        gripper_error = (handle - gripper) * scale
        gripper_error_init = (handle_pos_init - self.attr("init_tcp")) * scale
        reward_for_caging = ops.tolerance(ops.norm(gripper_error), 0, 0.01, ops.norm(gripper_error_init),
                                          "long_tail")
        return (reward_for_caging + reward_for_opening) * 5.0, handle_error <= 0.03
