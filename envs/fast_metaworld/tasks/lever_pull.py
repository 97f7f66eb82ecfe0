"""lever-pull-v3 (``SawyerLeverPullEnvV3``): lift the lever to point straight up."""

from __future__ import annotations

import math

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

# metaworld scales the shoulder-to-lever error by (4, 1, 4) around an offset that puts the shoulder under the lever
_SCALE = (4.0, 1.0, 4.0)
_OFFSET = (0.0, 0.055, 0.07)


def _shoulder_to_lever(gripper: list[float], lever: list[float]) -> float:
    return scalar.norm([(gripper[i] + _OFFSET[i] - lever[i]) * _SCALE[i] for i in range(3)])


class LeverPullKernel(TaskKernel):
    task = "lever-pull-v3"

    def __init__(self, env) -> None:
        super().__init__(env)
        self._lever_start = self.model.site("leverStart").id
        self._obj_geom = self.model.geom("objGeom").id
        self._qpos = self.data.qpos
        self._lever_adr = int(self.model.joint("LeverAxis").qposadr[0])

    def objects(self) -> list[float]:
        return self._site_xpos[self._lever_start].tolist() + self.geom_quat(self._obj_geom)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        lever = obs[4:7]
        lever_pos_init = env._lever_pos_init.tolist()
        ready_to_lift = scalar.tolerance(_shoulder_to_lever(obs[:3], lever), 0, 0.02,
                                         _shoulder_to_lever(env.init_tcp.tolist(), lever_pos_init), "long_tail")
        lever_angle = -self._qpos[self._lever_adr].item()
        lever_error = abs(lever_angle - math.pi / 2.0)
        target = env._target_pos
        in_place = scalar.tolerance(scalar.dist(lever, target), 0, 0.04, scalar.dist(lever_pos_init, target),
                                    "long_tail")
        reward = 10.0 * scalar.hamacher_product(ready_to_lift, in_place)
        return float(reward), lever_error <= math.pi / 24
