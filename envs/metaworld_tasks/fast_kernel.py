"""The task kernel: one Meta-World v3 task's per-step observation objects, v2 reward and success flag, in scalar
Python on top of the live MuJoCo data of a real ``metaworld`` env.

A kernel never changes the simulation: the fast backend applies the action and steps MuJoCo exactly as
``SawyerXYZEnv.step`` does, then asks the kernel for the two task-specific parts of a step:

* :meth:`TaskKernel.objects`: what ``_get_pos_objects`` / ``_get_quat_objects`` put in the observation (object
  positions and quaternions, interleaved ``pos, quat[, pos, quat]``);
* :meth:`TaskKernel.reward`: what ``evaluate_state`` returns as the reward and ``info["success"]``, from the clipped
  observation and the action.

Per-episode quantities (``obj_init_pos``, ``_target_pos``, ``init_tcp``, ...) are read from the metaworld env at
every step, not cached: metaworld keeps some of them as live views of ``data.xpos`` (``init_left_pad`` is one), and
reading them where metaworld reads them keeps those semantics. Body, geom and site ids are resolved once.

Numbers are converted to Python floats (``.tolist()``) before any arithmetic: metaworld's rewards mix in the
float32 action and, by numpy's promotion rules, then compute in float32 when the other operand is a Python float
but in float64 when it is a numpy float64 scalar; Python floats reproduce metaworld's rounding.

To add a task: subclass :class:`TaskKernel` in the task's module of :mod:`envs.metaworld_tasks`, set ``task``,
implement the two methods, and add the task to ``KERNELS`` there; the parity tests then cover it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from envs.metaworld_tasks import scalar
from envs.metaworld_tasks.objects import ObjectSpec


class TaskKernel:
    """Base class: resolves the Sawyer arm's ids on one env and provides the shared reward pieces.

    Args:
        env: the unwrapped metaworld env (a ``SawyerXYZEnv``) whose ``model`` / ``data`` the kernel reads.

    Attributes:
        env, model, data: the env and its MuJoCo model and data.
    """

    task: ClassVar[str] = ""
    object_spec: ClassVar[ObjectSpec | None] = None
    """The observed object, for tasks whose :meth:`objects` is a plain reading (else ``None`` and an override)."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.model = env.model
        self.data = env.data
        self._xpos = self.data.xpos  # views into MjData: always current
        self._site_xpos = self.data.site_xpos
        self._geom_xpos = self.data.geom_xpos
        self._geom_xmat = self.data.geom_xmat
        self._xquat = self.data.xquat
        self._xmat = self.data.xmat
        self._site_xmat = self.data.site_xmat
        self._qpos = self.data.qpos
        self._right_ee = self.model.site("rightEndEffector").id
        self._left_ee = self.model.site("leftEndEffector").id
        self._leftpad = self.model.body("leftpad").id
        self._rightpad = self.model.body("rightpad").id
        spec = self.object_spec
        if spec is not None:
            kind, name = spec.pos
            self._object_pos = {"body": self._xpos, "geom": self._geom_xpos, "site": self._site_xpos}[kind][
                getattr(self.model, kind)(name).id]  # a row view: always current
            self._object_quat = None if spec.quat is None else (spec.quat[0], getattr(self.model, spec.quat[0])(
                spec.quat[1]).id)

    # ------------------------------------------------------------------ what a task implements
    def objects(self) -> list[float]:
        """``np.hstack`` of ``(pos, quat)`` pairs, ``_get_pos_objects`` / ``_get_quat_objects`` interleaved as
        metaworld's ``_get_curr_obs_combined_no_goal`` does (7 or 14 numbers); read from :attr:`object_spec`."""
        spec = self.object_spec
        if spec is None:
            raise NotImplementedError(f"{type(self).__name__}: no object_spec and no objects()")
        pos = self._object_pos.tolist()
        if spec.offset is not None:
            pos = [p + o for p, o in zip(pos, spec.offset, strict=True)]
        if self._object_quat is None:
            return pos + [0.0, 0.0, 0.0, 0.0]
        kind, ident = self._object_quat
        return pos + (self.body_quat(ident) if kind == "body" else self.geom_quat(ident))

    def reward(self, obs: list[float], action: list[float]) -> tuple[float, bool]:
        """``(reward, success)`` as ``evaluate_state(obs, action)`` gives them (``reward_function_version="v2"``).

        Args:
            obs: the 39 numbers of the clipped observation of this step.
            action: the 4 numbers of the action (float32 values).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ shared readings
    def body_pos(self, body_id: int) -> list[float]:
        """``data.xpos[body_id]`` (what ``get_body_com`` returns)."""
        return self._xpos[body_id].tolist()

    def geom_quat(self, geom_id: int) -> list[float]:
        """``Rotation.from_matrix(data.geom_xmat[geom_id].reshape(3, 3)).as_quat()``."""
        return scalar.quat_from_xmat(self._geom_xmat[geom_id].tolist())

    def body_quat(self, body_id: int) -> list[float]:
        """``data.xquat[body_id]`` (MuJoCo's ``w, x, y, z`` order, as metaworld reports it)."""
        return self._xquat[body_id].tolist()

    def tcp_center(self) -> list[float]:
        """``SawyerXYZEnv.tcp_center``: the midpoint of the two finger sites."""
        r = self._site_xpos[self._right_ee].tolist()
        l = self._site_xpos[self._left_ee].tolist()
        return [(r[0] + l[0]) / 2.0, (r[1] + l[1]) / 2.0, (r[2] + l[2]) / 2.0]

    def gripper_caging_reward(self, action: list[float], obj_pos: list[float], obj_radius: float,
                              pad_success_thresh: float, object_reach_radius: float, xz_thresh: float,
                              desired_gripper_effort: float = 1.0, high_density: bool = False,
                              medium_density: bool = False) -> float:
        """``SawyerXYZEnv._gripper_caging_reward``: the generic grasp reward (caging in y, closeness in xz,
        gripper effort), with the same arguments and the same float32 arithmetic where the action enters."""
        if high_density and medium_density:
            raise ValueError("Can only be either high_density or medium_density")
        env = self.env
        # Python floats throughout: numpy float64 scalars would turn metaworld's float32 arithmetic into float64
        obj_init_pos = env.obj_init_pos.tolist()
        left_y = float(self._xpos[self._leftpad, 1])
        right_y = float(self._xpos[self._rightpad, 1])
        caging_lr = []
        for pad_y in (left_y, right_y):
            pad_to_obj = abs(pad_y - obj_pos[1])
            margin = abs(abs(pad_y - obj_init_pos[1]) - pad_success_thresh)
            caging_lr.append(scalar.tolerance(pad_to_obj, obj_radius, pad_success_thresh, margin, "long_tail"))
        caging_y = scalar.hamacher_product(caging_lr[0], caging_lr[1])

        tcp = self.tcp_center()
        init_tcp = env.init_tcp.tolist()
        caging_xz_margin = scalar.dist_xz(obj_init_pos, init_tcp) - xz_thresh
        caging_xz = scalar.tolerance(scalar.dist_xz(tcp, obj_pos), 0, xz_thresh, caging_xz_margin, "long_tail")

        # metaworld computes these with the float32 action: keep its rounding
        effort = np.float32(action[-1])
        gripper_closed = min(max(0, effort), desired_gripper_effort) / desired_gripper_effort
        caging = scalar.hamacher_product(caging_y, float(caging_xz))
        gripping = gripper_closed if caging > 0.97 else 0.0
        caging_and_gripping = scalar.hamacher_product(caging, gripping)
        if high_density:
            caging_and_gripping = (caging_and_gripping + caging) / 2
        if medium_density:
            tcp_to_obj = scalar.dist(obj_pos, tcp)
            tcp_to_obj_init = scalar.dist(obj_init_pos, init_tcp)
            reach_margin = abs(tcp_to_obj_init - object_reach_radius)
            reach = scalar.tolerance(tcp_to_obj, 0, object_reach_radius, reach_margin, "long_tail")
            caging_and_gripping = (caging_and_gripping + float(reach)) / 2
        return caging_and_gripping

