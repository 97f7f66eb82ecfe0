"""What a one-object task puts in the observation, declared once for both of its kernels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectSpec:
    """A task's ``_get_pos_objects`` / ``_get_quat_objects`` when they read one object straight from the simulator.

    Attributes:
        pos: ``(kind, name)``: the position of a ``"body"``, ``"geom"`` or ``"site"``.
        quat: ``(kind, name)``: the orientation of a ``"body"`` (``xquat``) or a ``"geom"`` (from ``geom_xmat``);
            ``None``: four zeros.
        offset: added to the position (the button tasks report the button's face, not its body's origin).
    """

    pos: tuple[str, str]
    quat: tuple[str, str] | None = None
    offset: tuple[float, float, float] | None = None
