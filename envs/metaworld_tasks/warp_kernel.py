"""The Warp backend's task kernel: one Meta-World v3 task's observation objects, v2 reward and success flag, batched
over the ``W`` worlds of a :class:`~envs.warp_metaworld.sim.WarpTaskSim`, in torch on the simulator's device.

The specification of every task is its scalar kernel in ``envs/metaworld_tasks/`` (parity-tested against
metaworld bit for bit); a Warp kernel computes the same thing for all worlds at once, replacing each ``if`` on a
value by ``torch.where``. Per-episode constants (``obj_init_pos``, ``_target_pos``, ...) come from the reference
export: :meth:`WarpTaskKernel.attr` gives the ``(W, k)`` value of the goal each world was reset to. Attributes that
metaworld keeps as live views of the simulator (exported with the suffix ``@live``, e.g. ``init_left_pad``) must be
read from the simulator instead, as the scalar kernels do.

To add a task: subclass :class:`WarpTaskKernel` beside the task's scalar kernel in :mod:`envs.metaworld_tasks`, with
``task`` set and :meth:`objects` / :meth:`reward` implemented, and add it to ``KERNELS`` there.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from envs.metaworld_tasks import ops
from envs.metaworld_tasks.objects import ObjectSpec


class WarpTaskKernel:
    """Base class: the Sawyer arm's ids, per-world episode constants, and the shared reward pieces.

    Args:
        sim: the task's simulator (``sim.mjm`` is the host ``MjModel`` for name lookups; ``sim.xpos`` etc. are
            ``(W, n, 3)`` torch views).
        attributes: ``{name: (50, ...)}`` per-goal episode attributes from the reference export.
    """

    task: ClassVar[str] = ""
    object_spec: ClassVar[ObjectSpec | None] = None
    """The observed object (shared with the task's scalar kernel), or ``None`` and an :meth:`objects` override."""

    def __init__(self, sim: Any, attributes: dict[str, Tensor]) -> None:
        self.sim = sim
        self.mjm = sim.mjm
        self._goal_attributes = attributes
        self._attributes = {name: torch.zeros((sim.worlds, *value.shape[1:]), dtype=value.dtype,
                                              device=value.device) for name, value in attributes.items()}
        self._right_ee = self.site_id("rightEndEffector")
        self._left_ee = self.site_id("leftEndEffector")
        self._leftpad = self.body_id("leftpad")
        self._rightpad = self.body_id("rightpad")
        spec = self.object_spec
        if spec is not None:
            self._object_pos = (spec.pos[0], getattr(self.mjm, spec.pos[0])(spec.pos[1]).id)
            self._object_quat = None if spec.quat is None else (spec.quat[0], getattr(self.mjm, spec.quat[0])(
                spec.quat[1]).id)
            self._object_offset = None if spec.offset is None else torch.tensor(
                spec.offset, dtype=sim.xpos.dtype, device=sim.xpos.device)

    # ------------------------------------------------------------------ names and episode constants
    def body_id(self, name: str) -> int:
        return self.mjm.body(name).id

    def site_id(self, name: str) -> int:
        return self.mjm.site(name).id

    def geom_id(self, name: str) -> int:
        return self.mjm.geom(name).id

    def joint_qpos_address(self, name: str) -> int:
        return int(self.mjm.jnt_qposadr[self.mjm.joint(name).id])

    def on_reset(self, worlds: Tensor, goals: Tensor) -> None:
        """Worlds ``(k,)`` were reset to goals ``(k,)``: take those goals' episode constants. Subclasses with
        per-episode state of their own (metaworld attributes its reward writes) reset it here too."""
        for name, values in self._goal_attributes.items():
            self._attributes[name][worlds] = values[goals]

    def attr(self, name: str) -> Tensor:
        """The per-world value of an episode attribute: ``(W, k)`` for vectors (``obj_init_pos``, ``_target_pos``),
        ``(W,)`` for numbers (``maxPullDist``)."""
        if name not in self._attributes:
            live = f"{name}@live" in self._attributes
            raise KeyError(f"{self.task}: no episode attribute {name!r}"
                           + (" (it is a live view of the simulator: read the simulator)" if live else ""))
        return self._attributes[name]

    # ------------------------------------------------------------------ what a task implements
    def objects(self) -> Tensor:
        """``(W, 7)`` or ``(W, 14)``: object position(s) and quaternion(s), interleaved as metaworld's
        ``_get_curr_obs_combined_no_goal`` puts them; read from :attr:`object_spec`."""
        spec = self.object_spec
        if spec is None:
            raise NotImplementedError(f"{type(self).__name__}: no object_spec and no objects()")
        kind, ident = self._object_pos
        pos = {"body": self.sim.xpos, "geom": self.sim.geom_xpos, "site": self.sim.site_xpos}[kind][:, ident]
        if self._object_offset is not None:
            pos = pos + self._object_offset
        if self._object_quat is None:
            return torch.cat([pos, torch.zeros_like(pos[:, :1]).expand(-1, 4)], dim=1)
        kind, ident = self._object_quat
        return torch.cat([pos, self.body_quat(ident) if kind == "body" else self.geom_quat(ident)], dim=1)

    def goal(self) -> Tensor:
        """``(W, 3)``: ``_get_pos_goal()`` (``_target_pos``; a task whose target is a live view overrides it)."""
        return self.attr("_target_pos")

    def reward(self, obs: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        """``(reward (W,), success (W,) bool)`` from the clipped observation ``(W, 39)`` and action ``(W, 4)``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared readings
    def body_pos(self, body: int) -> Tensor:
        return self.sim.xpos[:, body]

    def body_quat(self, body: int) -> Tensor:
        """``data.xquat`` (MuJoCo's ``w, x, y, z``, as metaworld reports it)."""
        return self.sim.xquat[:, body]

    def geom_quat(self, geom: int) -> Tensor:
        """``Rotation.from_matrix(data.geom_xmat[geom]).as_quat()``."""
        return ops.quat_from_xmat(self.sim.geom_xmat[:, geom])

    def site_pos(self, site: int) -> Tensor:
        return self.sim.site_xpos[:, site]

    def tcp_center(self) -> Tensor:
        """``(W, 3)``: the midpoint of the two finger sites."""
        return (self.sim.site_xpos[:, self._right_ee] + self.sim.site_xpos[:, self._left_ee]) / 2.0

    def gripper_caging_reward(self, action: Tensor, obj_pos: Tensor, obj_radius: float, pad_success_thresh: float,
                              object_reach_radius: float, xz_thresh: float, desired_gripper_effort: float = 1.0,
                              high_density: bool = False, medium_density: bool = False) -> Tensor:
        """``SawyerXYZEnv._gripper_caging_reward`` for every world (see the scalar kernel's docstring)."""
        if high_density and medium_density:
            raise ValueError("Can only be either high_density or medium_density")
        obj_init_pos = self.attr("obj_init_pos")
        init_tcp = self.attr("init_tcp")
        pad_y = torch.stack([self.sim.xpos[:, self._leftpad, 1], self.sim.xpos[:, self._rightpad, 1]], dim=-1)
        pad_to_obj = (pad_y - obj_pos[:, 1:2]).abs()
        margin = ((pad_y - obj_init_pos[:, 1:2]).abs() - pad_success_thresh).abs()
        caging_lr = ops.tolerance(pad_to_obj, obj_radius, pad_success_thresh, margin, "long_tail")
        caging_y = ops.hamacher_product(caging_lr[:, 0], caging_lr[:, 1])
        tcp = self.tcp_center()
        xz = [0, 2]
        caging_xz_margin = ops.dist(obj_init_pos[:, xz], init_tcp[:, xz]) - xz_thresh
        caging_xz = ops.tolerance(ops.dist(tcp[:, xz], obj_pos[:, xz]), 0, xz_thresh, caging_xz_margin, "long_tail")
        gripper_closed = action[:, 3].clamp(min=0).clamp(max=desired_gripper_effort) / desired_gripper_effort
        caging = ops.hamacher_product(caging_y, caging_xz)
        gripping = torch.where(caging > 0.97, gripper_closed, torch.zeros_like(gripper_closed))
        caging_and_gripping = ops.hamacher_product(caging, gripping)
        if high_density:
            caging_and_gripping = (caging_and_gripping + caging) / 2
        if medium_density:
            tcp_to_obj = ops.dist(obj_pos, tcp)
            tcp_to_obj_init = ops.dist(obj_init_pos, init_tcp)
            reach_margin = (tcp_to_obj_init - object_reach_radius).abs()
            reach = ops.tolerance(tcp_to_obj, 0, object_reach_radius, reach_margin, "long_tail")
            caging_and_gripping = (caging_and_gripping + reach) / 2
        return caging_and_gripping
