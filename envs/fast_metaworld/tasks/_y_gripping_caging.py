"""The ``_gripper_caging_reward`` override shared by soccer, push-back, sweep and sweep-into: caging in y and xz,
with a y "gripping" term in place of the gripper effort (the action is not used)."""

from __future__ import annotations

from envs.fast_metaworld import scalar
from envs.fast_metaworld.kernel import TaskKernel

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
