"""dial-turn-v3 (``SawyerDialTurnEnvV3``): turn the dial until its rim point reaches the goal."""

from __future__ import annotations

import math

import numpy as np
import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_TARGET_RADIUS = 0.07
_DIAL_RADIUS = 0.05
_DIAL_REACH_RADIUS = 0.005


class DialTurnKernel(TaskKernel):
    task = "dial-turn-v3"
    _dial = ModelId("body", "dial")
    _knob_qpos = ModelId("qpos", "knob_Joint_1")

    def _dial_rim(self) -> list[float]:
        """``_get_pos_objects``: the point on the dial's rim that its angle points to."""
        x, y, z = self.body_pos(self._dial)
        angle = float(self._qpos[self._knob_qpos])
        return [x + math.sin(angle) * _DIAL_RADIUS, y + -math.cos(angle) * _DIAL_RADIUS, z]

    def objects(self) -> list[float]:
        return self._dial_rim() + self.body_quat(self._dial)

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        env = self.env
        # metaworld reads the dial from the simulator here, not from the (clipped) observation
        obj = self._dial_rim()
        push_position = [obj[0] + 0.05, obj[1] + 0.02, obj[2] + 0.09]
        target = env._target_pos
        target_to_obj = scalar.dist(obj, target)
        target_to_obj_init = scalar.dist(env.dial_push_position, target)
        in_place = scalar.tolerance(target_to_obj, 0, _TARGET_RADIUS, abs(target_to_obj_init - _TARGET_RADIUS),
                                    "long_tail")
        tcp_to_obj = scalar.dist(push_position, self.tcp_center())
        tcp_to_obj_init = scalar.dist(env.dial_push_position, env.init_tcp)
        reach = scalar.tolerance(tcp_to_obj, 0, _DIAL_REACH_RADIUS, abs(tcp_to_obj_init - _DIAL_REACH_RADIUS),
                                 "gaussian")
        # metaworld mixes in the float32 action: the rest of the reward is float32 arithmetic
        gripper_closed = min(max(0, np.float32(action[-1])), 1)
        reach = scalar.hamacher_product(reach, gripper_closed)
        reward = 10 * scalar.hamacher_product(reach, in_place)
        return float(reward), target_to_obj <= _TARGET_RADIUS


class DialTurnWarpKernel(WarpTaskKernel):
    task = "dial-turn-v3"
    _dial = ModelId("body", "dial")
    _knob_qpos = ModelId("qpos", "knob_Joint_1")

    def _dial_rim(self) -> torch.Tensor:
        """``_get_pos_objects``: the point on the dial's rim that its angle points to."""
        pos = self.body_pos(self._dial)
        angle = self.sim.qpos[:, self._knob_qpos]
        return torch.stack([pos[:, 0] + torch.sin(angle) * _DIAL_RADIUS, pos[:, 1] + -torch.cos(angle) * _DIAL_RADIUS,
                            pos[:, 2]], dim=1)

    def objects(self) -> torch.Tensor:
        return torch.cat([self._dial_rim(), self.body_quat(self._dial)], dim=1)

    def reward(self, obs, action):
        # metaworld reads the dial from the simulator here, not from the (clipped) observation
        obj = self._dial_rim()
        push_position = torch.stack([obj[:, 0] + 0.05, obj[:, 1] + 0.02, obj[:, 2] + 0.09], dim=1)
        target = self.attr("_target_pos")
        push_init = self.attr("dial_push_position")
        target_to_obj = ops.dist(obj, target)
        target_to_obj_init = ops.dist(push_init, target)
        in_place = ops.tolerance(target_to_obj, 0, _TARGET_RADIUS, (target_to_obj_init - _TARGET_RADIUS).abs(),
                                 "long_tail")
        tcp_to_obj = ops.dist(push_position, self.tcp_center())
        tcp_to_obj_init = ops.dist(push_init, self.attr("init_tcp"))
        reach = ops.tolerance(tcp_to_obj, 0, _DIAL_REACH_RADIUS, (tcp_to_obj_init - _DIAL_REACH_RADIUS).abs(),
                              "gaussian")
        gripper_closed = action[:, 3].clamp(min=0, max=1)
        reach = ops.hamacher_product(reach, gripper_closed)
        return 10 * ops.hamacher_product(reach, in_place), target_to_obj <= _TARGET_RADIUS
