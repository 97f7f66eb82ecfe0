"""The ``_gripper_caging_reward`` override shared by soccer, push-back, sweep and sweep-into: caging in y and xz,
with a y "gripping" term in place of the gripper effort (the action is not used)."""

from __future__ import annotations

import torch

from envs.metaworld_tasks import ops, scalar
from envs.metaworld_tasks.fast_kernel import TaskKernel
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

_PAD_SUCCESS_MARGIN = 0.05


def y_gripping_caging_reward(kernel: TaskKernel, obj: list[float], obj_radius: float, grip_extra: float,
                             x_z_success_margin: float) -> float:
    """The override's value for the object at ``obj``; ``grip_extra`` is ``grip_success_margin - obj_radius``."""
    env = kernel.env
    grip_success_margin = obj_radius + grip_extra
    left_pad_y = kernel._xpos[kernel._leftpad][1]
    right_pad_y = kernel._xpos[kernel._rightpad][1]
    delta_left = left_pad_y - obj[1]
    delta_right = obj[1] - right_pad_y
    # init_*_pad are live views of data.xpos (metaworld's get_body_com): these are the current pads
    right_margin = abs(abs(obj[1] - env.init_right_pad[1]) - _PAD_SUCCESS_MARGIN)
    left_margin = abs(abs(obj[1] - env.init_left_pad[1]) - _PAD_SUCCESS_MARGIN)
    right_caging = scalar.tolerance(delta_right, obj_radius, _PAD_SUCCESS_MARGIN, right_margin, "long_tail")
    left_caging = scalar.tolerance(delta_left, obj_radius, _PAD_SUCCESS_MARGIN, left_margin, "long_tail")
    right_gripping = scalar.tolerance(delta_right, obj_radius, grip_success_margin, right_margin, "long_tail")
    left_gripping = scalar.tolerance(delta_left, obj_radius, grip_success_margin, left_margin, "long_tail")
    y_caging = scalar.hamacher_product(right_caging, left_caging)
    y_gripping = scalar.hamacher_product(right_gripping, left_gripping)

    x_z_margin = scalar.dist_xz(env.obj_init_pos, env.init_tcp) - x_z_success_margin
    x_z_caging = scalar.tolerance(scalar.dist_xz(kernel.tcp_center(), obj), 0, x_z_success_margin, x_z_margin,
                                  "long_tail")
    caging = scalar.hamacher_product(y_caging, x_z_caging)
    gripping = y_gripping if caging > 0.95 else 0.0
    return (caging + gripping) / 2


def y_gripping_caging_warp(kernel: WarpTaskKernel, obj: torch.Tensor, obj_radius: float, grip_extra: float,
                             x_z_success_margin: float) -> torch.Tensor:
    """``(W,)``: the override's value for the objects at ``obj`` ``(W, 3)``; ``grip_extra`` is
    ``grip_success_margin - obj_radius``."""
    grip_success_margin = obj_radius + grip_extra
    left_pad_y = kernel.sim.xpos[:, kernel._leftpad, 1]
    right_pad_y = kernel.sim.xpos[:, kernel._rightpad, 1]
    obj_y = obj[:, 1]
    delta_left = left_pad_y - obj_y
    delta_right = obj_y - right_pad_y
    # init_*_pad are live views of data.xpos in metaworld: these are the current pads
    right_margin = ((obj_y - right_pad_y).abs() - _PAD_SUCCESS_MARGIN).abs()
    left_margin = ((obj_y - left_pad_y).abs() - _PAD_SUCCESS_MARGIN).abs()
    right_caging = ops.tolerance(delta_right, obj_radius, _PAD_SUCCESS_MARGIN, right_margin, "long_tail")
    left_caging = ops.tolerance(delta_left, obj_radius, _PAD_SUCCESS_MARGIN, left_margin, "long_tail")
    right_gripping = ops.tolerance(delta_right, obj_radius, grip_success_margin, right_margin, "long_tail")
    left_gripping = ops.tolerance(delta_left, obj_radius, grip_success_margin, left_margin, "long_tail")
    y_caging = ops.hamacher_product(right_caging, left_caging)
    y_gripping = ops.hamacher_product(right_gripping, left_gripping)

    xz = [0, 2]
    x_z_margin = ops.dist(kernel.attr("obj_init_pos")[:, xz], kernel.attr("init_tcp")[:, xz]) - x_z_success_margin
    x_z_caging = ops.tolerance(ops.dist(kernel.tcp_center()[:, xz], obj[:, xz]), 0, x_z_success_margin, x_z_margin,
                               "long_tail")
    caging = ops.hamacher_product(y_caging, x_z_caging)
    gripping = torch.where(caging > 0.95, y_gripping, torch.zeros_like(y_gripping))
    return (caging + gripping) / 2
