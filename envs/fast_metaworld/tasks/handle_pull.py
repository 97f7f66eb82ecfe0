"""handle-pull-v3 (``SawyerHandlePullEnvV3``): pull the handle up to the goal height."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

_TARGET_RADIUS = 0.05


class HandlePullKernel(TaskKernel):
    task = "handle-pull-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._handle = self.model.site("handleRight").id

    def objects(self) -> list[float]:
        return self._site_xpos[self._handle].tolist() + [0.0, 0.0, 0.0, 0.0]

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        obj_init_pos = env.obj_init_pos
        target_to_obj = abs(target[2] - obj[2])
        target_to_obj_init = abs(target[2] - obj_init_pos[2])
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, target_to_obj_init, "long_tail")
        object_grasped = self.gripper_caging_reward(action, obj, pad_success_thresh=0.05, obj_radius=0.022,
                                                    object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        # metaworld compares the handle's y with the initial z here: kept as is
        if tcp_to_obj < 0.035 and obs[3] > 0 and obj[1] - 0.01 > obj_init_pos[2]:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < _TARGET_RADIUS:
            reward = 10.0
        return float(reward), target_to_obj <= _TARGET_RADIUS
