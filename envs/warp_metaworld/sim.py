"""One Meta-World task simulated by MuJoCo Warp: ``W`` worlds of one model, torch views, restored resets.

Only this module (and the env built on it) imports ``mujoco`` >= 3.13, ``warp`` and ``mujoco_warp``; they live in
the Warp environment (``pip install -e . --no-deps`` plus the ``gpu-sim`` requirements; see README), never beside
metaworld. Every array a kernel reads is a zero-copy torch view of a Warp array (``wp.to_torch``), float32, shaped
``(W, ...)``, on the simulator's device.

A step does what ``SawyerXYZEnv.step`` does to the simulator: the mocap target moves by ``action * action_scale``
(float32, clipped to the mocap box), the gripper controls are set, ``frame_skip`` physics steps run, then a forward
pass recomputes positions and contacts for the observation. On CUDA the whole step is captured once in a CUDA graph
and replayed. A reset writes the state that the reference env settled into for that goal (exported by
:mod:`envs.warp_metaworld.reference`) instead of simulating the settling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from envs.warp_metaworld.reference import STATE_FIELDS  # the simulator state the reference exports per goal

# metaworld's SawyerMocapBase.reset_mocap_welds writes these 11 numbers into every weld's eq_data after compiling
# the XML (MuJoCo >= 3.13 has a 12th number, which keeps its compiled default)
METAWORLD_WELD = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0])
_MOCAP_QUAT = (1.0, 0.0, 1.0, 0.0)


def load_model(xml_path: str, static: dict[str, np.ndarray]) -> Any:
    """Compile the task's XML with this MuJoCo and apply the constructor's changes the reference recorded.

    ``eq_data`` is handled by the weld rule above (its row length differs between MuJoCo versions); any other
    recorded field must have the same shape here.
    """
    import mujoco

    model = mujoco.MjModel.from_xml_path(xml_path)
    for i in range(model.neq):
        if model.eq_type[i] == mujoco.mjtEq.mjEQ_WELD:
            model.eq_data[i, : len(METAWORLD_WELD)] = METAWORLD_WELD
    for name, value in static.items():
        if name == "eq_data":
            continue
        target = getattr(model, name)
        if target.shape != value.shape:
            raise ValueError(f"{xml_path}: field {name} has shape {target.shape} here, {value.shape} in the reference")
        target[:] = value
    return model


class WarpTaskSim:
    """``worlds`` copies of one task in MuJoCo Warp.

    Args:
        xml_path: the task's MJCF file (metaworld's asset).
        frame_skip, action_scale, mocap_box: the task's control constants (``mocap_box`` ``(2, 3)``: low, high).
        static: model fields the reference constructor changed (applied to every world).
        per_goal_model: model fields that a reset changes, ``{field: (50, n, k)}``; they become per-world fields.
        states: the settled reset states, ``{field: (50, ...)}`` for :data:`STATE_FIELDS`.
        worlds: ``W``.
        device: a torch device (``cpu`` uses Warp's CPU backend).
        nconmax, njmax: contact and constraint capacities per world.
    """

    def __init__(self, xml_path: str, *, frame_skip: int, action_scale: float, mocap_box: np.ndarray,
                 static: dict[str, np.ndarray], per_goal_model: dict[str, np.ndarray],
                 states: dict[str, np.ndarray], worlds: int, device: torch.device | str = "cpu",
                 nconmax: int = 64, njmax: int = 256) -> None:
        import mujoco
        import mujoco_warp as mjw
        import warp as wp

        self._wp, self._mjw = wp, mjw
        self.device = torch.device(device)
        self.wp_device = "cpu" if self.device.type == "cpu" else f"cuda:{self.device.index or 0}"
        self.worlds, self.frame_skip = worlds, frame_skip
        self.mjm = load_model(xml_path, static)
        mjd = mujoco.MjData(self.mjm)
        mujoco.mj_forward(self.mjm, mjd)
        with wp.ScopedDevice(self.wp_device):
            self.m = mjw.put_model(self.mjm, batch_sizes={name: worlds for name in per_goal_model})
            self.d = mjw.put_data(self.mjm, mjd, nworld=worlds, nconmax=nconmax, njmax=njmax)
        view = wp.to_torch
        d = self.d
        self.qpos, self.qvel, self.act, self.ctrl = view(d.qpos), view(d.qvel), view(d.act), view(d.ctrl)
        self.mocap_pos, self.mocap_quat = view(d.mocap_pos), view(d.mocap_quat)
        self.qacc_warmstart = view(d.qacc_warmstart)
        self.xpos, self.xquat, self.xmat = view(d.xpos), view(d.xquat), view(d.xmat)
        self.site_xpos, self.site_xmat = view(d.site_xpos), view(d.site_xmat)
        self.geom_xpos, self.geom_xmat = view(d.geom_xpos), view(d.geom_xmat)
        self._model_views = {name: view(getattr(self.m, name)) for name in per_goal_model}
        to = dict(device=self.device, dtype=torch.float32)
        self._goal_states = {name: torch.as_tensor(states[name], **to) for name in STATE_FIELDS}
        self._goal_model = {name: torch.as_tensor(value, **to) for name, value in per_goal_model.items()}
        self.action_scale = torch.tensor(action_scale, dtype=torch.float32, device=self.device)
        self.mocap_low = torch.as_tensor(mocap_box[0], **to)
        self.mocap_high = torch.as_tensor(mocap_box[1], **to)
        self._quat = torch.tensor(_MOCAP_QUAT, **to)
        # MuJoCo Warp computes the world poses of geoms on static bodies (welded to the world, not under a mocap
        # body) once, in put_data; a reset that moves such a body (a drawer's case, a window's frame) must redo them
        weld, root, mocap = self.mjm.body_weldid, self.mjm.body_rootid, self.mjm.body_mocapid
        moved = {"body_pos", "body_quat", "geom_pos", "geom_quat"} & set(per_goal_model)
        static_geoms = [g for g in range(self.mjm.ngeom)
                        if weld[self.mjm.geom_bodyid[g]] == 0 and mocap[root[self.mjm.geom_bodyid[g]]] == -1]
        self._static_geoms = torch.tensor(static_geoms if moved else [], dtype=torch.long, device=self.device)
        self._static_bodies = torch.as_tensor(self.mjm.geom_bodyid[static_geoms] if moved else [],
                                              dtype=torch.long, device=self.device)
        self._geom_pos = view(self.m.geom_pos)  # (1 or W, ngeom, 3)
        self._geom_quat = view(self.m.geom_quat)
        self._graph = None
        if self.device.type == "cuda":
            self._capture()

    def contact_force(self, geom_a: int, geom_b: int) -> torch.Tensor:
        """``(W,)``: the summed normal force (first constraint row) of the contacts between two geoms, per world, as
        ``SawyerXYZEnv.touching_object`` sums them. All worlds' contacts share one array; the first ``nacon`` are in
        use, an address of -1 means the contact has no constraint rows."""
        wp, d = self._wp, self.d
        geom = wp.to_torch(d.contact.geom)
        address = wp.to_torch(d.contact.efc_address)[:, 0].long()
        world = wp.to_torch(d.contact.worldid).long().clamp(0, self.worlds - 1)
        efc_force = wp.to_torch(d.efc.force)
        njmax = efc_force.shape[1]
        slot = torch.arange(geom.shape[0], device=geom.device)
        pair = ((geom[:, 0] == geom_a) & (geom[:, 1] == geom_b)) | ((geom[:, 0] == geom_b) & (geom[:, 1] == geom_a))
        used = pair & (slot < wp.to_torch(d.nacon)[0]) & (address >= 0) & (address < njmax)
        force = torch.where(used, efc_force[world, address.clamp(0, njmax - 1)], torch.zeros_like(efc_force[0, :1]))
        return torch.zeros(self.worlds, dtype=efc_force.dtype, device=efc_force.device).index_add(0, world, force)

    # ------------------------------------------------------------------ resets
    def reset(self, worlds: torch.Tensor, goals: torch.Tensor) -> None:
        """Restore the reference's settled reset state of ``goals`` ``(k,)`` in ``worlds`` ``(k,)`` (long)."""
        if worlds.numel() == 0:
            return
        for name in STATE_FIELDS:
            getattr(self, name)[worlds] = self._goal_states[name][goals]
        for name, dst in self._model_views.items():
            dst[worlds] = self._goal_model[name][goals]
        self._forward()
        if self._static_geoms.numel():
            self._place_static_geoms(worlds)

    def _place_static_geoms(self, worlds: torch.Tensor) -> None:
        """``geom_xpos`` / ``geom_xmat`` of the static geoms in ``worlds`` from their bodies' (just recomputed)
        poses, as MuJoCo's kinematics places every geom."""
        geoms, bodies = self._static_geoms, self._static_bodies
        rows = worlds if self._geom_pos.shape[0] > 1 else torch.zeros_like(worlds)
        body_pos = self.xpos[worlds][:, bodies]  # (k, g, 3)
        body_quat = self.xquat[worlds][:, bodies]
        local_pos = self._geom_pos[rows][:, geoms]
        local_quat = self._geom_quat[rows][:, geoms] if self._geom_quat.shape[0] > 1 else \
            self._geom_quat[0, geoms].expand_as(body_quat)
        self.geom_xpos[worlds[:, None], geoms] = body_pos + _rotate(body_quat, local_pos)
        self.geom_xmat[worlds[:, None], geoms] = _quat_to_mat(_quat_mul(body_quat, local_quat))

    def _forward(self) -> None:
        wp = self._wp
        stream = wp.stream_from_torch(torch.cuda.current_stream()) if self.device.type == "cuda" else None
        with wp.ScopedDevice(self.wp_device), wp.ScopedStream(stream):
            self._mjw.forward(self.m, self.d)

    # ------------------------------------------------------------------ steps
    def step(self, actions: torch.Tensor) -> None:
        """Apply ``actions`` ``(W, 4)`` (in ``[-1, 1]``) and simulate one env step of every world."""
        delta = actions[:, :3] * self.action_scale  # float32, as metaworld's action * action_scale
        self.mocap_pos.add_(delta[:, None, :])
        hand = self.mocap_pos[:, 0]
        torch.maximum(hand, self.mocap_low, out=hand)
        torch.minimum(hand, self.mocap_high, out=hand)
        self.mocap_quat.copy_(self._quat.expand_as(self.mocap_quat))
        self.ctrl[:, 0] = actions[:, 3]
        self.ctrl[:, 1] = -actions[:, 3]
        self._simulate()

    def _physics(self) -> None:
        for _ in range(self.frame_skip):
            self._mjw.step(self.m, self.d)
        self._mjw.forward(self.m, self.d)

    def _capture(self) -> None:
        """Compile every kernel (one throw-away step: the state is overwritten by the first reset), then record
        one env step's physics as a CUDA graph on torch's stream, so torch and Warp work stay ordered."""
        wp = self._wp
        with wp.ScopedDevice(self.wp_device), wp.ScopedStream(wp.stream_from_torch(torch.cuda.current_stream())):
            self._physics()
            with wp.ScopedCapture() as capture:
                self._physics()
        self._graph = capture.graph

    def _simulate(self) -> None:
        wp = self._wp
        if self.device.type != "cuda":
            with wp.ScopedDevice(self.wp_device):
                self._physics()
            return
        if self._graph is None:
            raise RuntimeError("the CUDA graph is captured at construction; it is missing")
        with wp.ScopedStream(wp.stream_from_torch(torch.cuda.current_stream())):
            wp.capture_launch(self._graph)


def _quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product of ``(..., 4)`` quaternions in MuJoCo's ``w, x, y, z`` order."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], dim=-1)


def _rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``v`` ``(..., 3)`` rotated by the unit quaternions ``q`` ``(..., 4)``."""
    return (_quat_to_mat(q) @ v.unsqueeze(-1)).squeeze(-1)


def _quat_to_mat(q: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` unit quaternions (``w, x, y, z``) -> ``(..., 3, 3)`` rotation matrices."""
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).unflatten(-1, (3, 3))
