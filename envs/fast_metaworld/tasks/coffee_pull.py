"""coffee-pull-v3 (``SawyerCoffeePullEnvV3``): pull the mug out from under the coffee machine to the goal."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel


def _xy_weighted_dist(a, b) -> float:
    """``np.linalg.norm((a - b) * [2, 2, 1])``: metaworld's coffee rewards emphasise the x and y errors."""
    x, y, z = (a[0] - b[0]) * 2.0, (a[1] - b[1]) * 2.0, (a[2] - b[2]) * 1.0
    return math.sqrt(x * x + y * y + z * z)


class CoffeePullKernel(TaskKernel):
    """Also the kernel of coffee-push-v3, whose v2 reward and objects are the same code."""

    task = "coffee-pull-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._obj = self.model.body("obj").id
        self._mug = self.model.geom("mug").id

    def objects(self) -> list[float]:
        return self.body_pos(self._obj) + self.geom_quat(self._mug)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        obj = obs[4:7]
        target = env._target_pos
        target_to_obj = _xy_weighted_dist(obj, target)
        target_to_obj_init = _xy_weighted_dist(env.obj_init_pos, target)
        in_place = scalar.tolerance(target_to_obj, 0, 0.05, target_to_obj_init, "long_tail")
        tcp_opened = obs[3]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        object_grasped = self.gripper_caging_reward(action, obj, object_reach_radius=0.04, obj_radius=0.02,
                                                    pad_success_thresh=0.05, xz_thresh=0.05,
                                                    desired_gripper_effort=0.7, medium_density=True)
        reward = scalar.hamacher_product(object_grasped, in_place)
        if tcp_to_obj < 0.04 and tcp_opened > 0:
            reward += 1.0 + 5.0 * in_place
        if target_to_obj < 0.05:
            reward = 10.0
        return float(reward), scalar.dist(obj, target) <= 0.07
