"""The button-press family (``SawyerButtonPress*EnvV3``): press a button in along y (``button-press``,
``button-press-wall``, behind a wall) or down from above (``button-press-topdown``, ``-topdown-wall``); and the
coffee machine's button (``coffee-button``, ``SawyerCoffeeButtonEnvV3``), rewarded as ``button-press`` is.

The four rewards share one shape: a reach term (the gripper's opening times closeness to the button) and, once the
hand is on the button, a press term; :class:`ButtonVariant` holds what differs. The wall variant along y shapes the
reach term its own way (:class:`ButtonPressWallKernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.objects import ModelId, ObjectSpec
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_BUTTON_FACE = 0.193  # the observation reports the button's face, this far from the body's origin
_ALONG_Y = ObjectSpec(pos=("body", "button"), quat=("body", "button"), offset=(0.0, -_BUTTON_FACE, 0.0))
_FROM_ABOVE = ObjectSpec(pos=("body", "button"), quat=("body", "button"), offset=(0.0, 0.0, _BUTTON_FACE))
_PRESS_RADIUS = 0.005  # the press term is full this close to the target


@dataclass(frozen=True)
class ButtonVariant:
    """What one task of the family sets.

    Attributes:
        task: the v3 task name.
        objects: the button the observation reports (``None``: the task's kernels read it themselves).
        axis: the axis the button moves along (1: y, 2: z).
        near_radius: the reach term is full this close to the button.
        open_gripper: the reach term rewards an open gripper (``1 - opening``) instead of ``max(opening, 0)``.
        reach_weight, press_weight: the two terms' weights.
        press_within: the press term counts when the hand is at most this far from the button.
        success: the button is pressed when it is at most this far from its target.
        press_margin: the episode attribute that is the press term's margin.
    """

    task: str
    objects: ObjectSpec | None
    axis: int
    near_radius: float
    open_gripper: bool
    reach_weight: int
    press_weight: int
    press_within: float
    success: float
    press_margin: str = "_obj_to_target_init"


PRESS = ButtonVariant("button-press-v3", _ALONG_Y, 1, 0.05, False, 2, 8, 0.05, 0.02)
TOPDOWN = ButtonVariant("button-press-topdown-v3", _FROM_ABOVE, 2, 0.01, True, 5, 5, 0.03, 0.024)
TOPDOWN_WALL = ButtonVariant("button-press-topdown-wall-v3", _FROM_ABOVE, 2, 0.01, False, 5, 5, 0.03, 0.024)
WALL = ButtonVariant("button-press-wall-v3", _ALONG_Y, 1, 0.01, False, 0, 0, 0.07, 0.03)  # its own reward shape
COFFEE = ButtonVariant("coffee-button-v3", None, 1, 0.05, False, 2, 8, 0.05, 0.02, "max_dist")


class ButtonKernel(TaskKernel):
    variant: ButtonVariant

    def _terms(self, obs: list[float]) -> tuple[float, float, float, float]:
        """``(tcp_to_obj, near_button, button_pressed, obj_to_target)`` of metaworld's ``compute_reward``."""
        env, v = self.env, self.variant
        obj = obs[4:7]
        tcp_to_obj = scalar.dist(obj, self.tcp_center())
        tcp_to_obj_init = scalar.dist(obj, env.init_tcp)  # metaworld measures from the current button
        obj_to_target = abs(env._target_pos[v.axis] - obj[v.axis])
        near_button = scalar.tolerance(tcp_to_obj, 0, v.near_radius, tcp_to_obj_init, "long_tail")
        button_pressed = scalar.tolerance(obj_to_target, 0, _PRESS_RADIUS, getattr(env, v.press_margin), "long_tail")
        return tcp_to_obj, near_button, button_pressed, obj_to_target

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        v = self.variant
        tcp_to_obj, near_button, button_pressed, obj_to_target = self._terms(obs)
        gripper = 1 - obs[3] if v.open_gripper else max(obs[3], 0.0)
        reward = v.reach_weight * scalar.hamacher_product(gripper, near_button)
        if tcp_to_obj <= v.press_within:
            reward += v.press_weight * button_pressed
        return float(reward), obj_to_target <= v.success


class ButtonWarpKernel(WarpTaskKernel):
    variant: ButtonVariant

    def _terms(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        v = self.variant
        obj = obs[:, 4:7]
        tcp_to_obj = ops.dist(obj, self.tcp_center())
        tcp_to_obj_init = ops.dist(obj, self.attr("init_tcp"))
        obj_to_target = (self.attr("_target_pos")[:, v.axis] - obj[:, v.axis]).abs()
        near_button = ops.tolerance(tcp_to_obj, 0, v.near_radius, tcp_to_obj_init, "long_tail")
        button_pressed = ops.tolerance(obj_to_target, 0, _PRESS_RADIUS, self.attr(v.press_margin), "long_tail")
        return tcp_to_obj, near_button, button_pressed, obj_to_target

    def reward(self, obs, action):
        v = self.variant
        tcp_to_obj, near_button, button_pressed, obj_to_target = self._terms(obs)
        gripper = 1 - obs[:, 3] if v.open_gripper else obs[:, 3].clamp(min=0.0)
        reward = v.reach_weight * ops.hamacher_product(gripper, near_button)
        reward = torch.where(tcp_to_obj <= v.press_within, reward + v.press_weight * button_pressed, reward)
        return reward, obj_to_target <= v.success


class ButtonPressWallKernel(ButtonKernel):
    """Far from the button the reach term rewards a closed gripper; near it, opening and pressing."""

    task, variant, object_spec = WALL.task, WALL, WALL.objects

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        tcp_to_obj, near_button, button_pressed, obj_to_target = self._terms(obs)
        if tcp_to_obj > WALL.press_within:
            reward = 2 * scalar.hamacher_product((1 - obs[3]) / 2.0, near_button)
        else:
            reward = 2 + 2 * (1 + obs[3]) + 4 * button_pressed**2
        return float(reward), obj_to_target <= WALL.success


class ButtonPressWallWarpKernel(ButtonWarpKernel):
    task, variant, object_spec = WALL.task, WALL, WALL.objects

    def reward(self, obs, action):
        tcp_to_obj, near_button, button_pressed, obj_to_target = self._terms(obs)
        far = 2 * ops.hamacher_product((1 - obs[:, 3]) / 2.0, near_button)
        near = 2 + 2 * (1 + obs[:, 3]) + 4 * button_pressed**2
        return torch.where(tcp_to_obj > WALL.press_within, far, near), obj_to_target <= WALL.success


class CoffeeButtonKernel(ButtonKernel):
    """The observation reports the button's start site with an identity orientation."""

    task, variant = COFFEE.task, COFFEE
    _button_start = ModelId("site", "buttonStart")

    def objects(self) -> list[float]:
        return self._site_xpos[self._button_start].tolist() + [1.0, 0.0, 0.0, 0.0]


class CoffeeButtonWarpKernel(ButtonWarpKernel):
    task, variant = COFFEE.task, COFFEE
    _button_start = ModelId("site", "buttonStart")

    def objects(self) -> torch.Tensor:
        pos = self.site_pos(self._button_start)
        quat = torch.zeros((pos.shape[0], 4), dtype=pos.dtype, device=pos.device)
        quat[:, 0] = 1.0
        return torch.cat([pos, quat], dim=1)
