"""What a task reads from its model, declared once for both of its kernels: the observed object (:class:`ObjectSpec`)
and named ids (:class:`ModelId`)."""

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


class ModelId:
    """A kernel's class attribute that reads as the id of a named ``"body"``, ``"site"`` or ``"geom"`` of the task's
    model, or (``"qpos"``) the ``qpos`` address of a named joint; the same declaration serves both kernels (the
    scalar kernel's ``model``, the Warp kernel's ``mjm``).

    Resolved on first use and then stored on the kernel, where it shadows this (non-data) descriptor: later reads
    are plain attribute reads.
    """

    KINDS = ("body", "site", "geom", "qpos")

    def __init__(self, kind: str, name: str) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"ModelId kind {kind!r}: valid: {', '.join(self.KINDS)}")
        self.kind, self.name = kind, name
        self.attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, kernel: object, owner: type | None = None) -> int | ModelId:
        if kernel is None:
            return self
        model = kernel.mjm if hasattr(kernel, "mjm") else kernel.model
        if self.kind == "qpos":
            ident = int(model.jnt_qposadr[model.joint(self.name).id])
        else:
            ident = getattr(model, self.kind)(self.name).id
        kernel.__dict__[self.attribute] = ident
        return ident
