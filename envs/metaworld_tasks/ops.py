"""Batched torch equivalents of metaworld's reward helpers (``metaworld.utils.reward_utils``) for the Warp backend.

Every function takes ``(W,)`` or ``(W, 3)`` tensors (one row per world) and mirrors its scalar twin in
``envs/metaworld_tasks/scalar.py`` (which is parity-tested against metaworld), branch for branch, with
``torch.where`` in place of ``if``. Margins may be tensors (per-world episode constants).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_VALUE_AT_MARGIN = 0.1


def norm(a: Tensor) -> Tensor:
    """``(W, k) -> (W,)``: Euclidean norm of each row."""
    return torch.linalg.vector_norm(a, dim=-1)


def dist(a: Tensor, b: Tensor) -> Tensor:
    """``(W, k), (W, k) -> (W,)``: ``np.linalg.norm(a - b)`` per world."""
    return torch.linalg.vector_norm(a - b, dim=-1)


def tolerance(x: Tensor, lower: float | Tensor, upper: float | Tensor, margin: float | Tensor,
              sigmoid: str = "gaussian", value_at_margin: float = _VALUE_AT_MARGIN) -> Tensor:
    """``reward_utils.tolerance`` per world: 1 inside ``[lower, upper]``, a sigmoid of the distance to the nearest
    bound in units of ``margin`` outside (0 where ``margin == 0``)."""
    in_bounds = (lower <= x) & (x <= upper)
    if not isinstance(margin, Tensor):  # a constant margin: no tensor made from a Python number (no host copy)
        if margin < 0:
            raise ValueError(f"`margin` must be non-negative. Current value: {margin}")
        if margin == 0:
            return in_bounds.to(x.dtype)
        margin = torch.full_like(x, margin)
    safe_margin = torch.where(margin > 0, margin, torch.ones_like(margin))
    d = torch.where(x < lower, lower - x, x - upper) / safe_margin
    if sigmoid == "long_tail":
        value = 1 / ((d * math.sqrt(1 / value_at_margin - 1)) ** 2 + 1)
    elif sigmoid == "gaussian":
        value = torch.exp(-0.5 * (d * math.sqrt(-2 * math.log(value_at_margin))) ** 2)
    elif sigmoid == "linear":
        scaled = d * (1 - value_at_margin)
        value = torch.where(scaled.abs() < 1, 1 - scaled, torch.zeros_like(scaled))
    elif sigmoid == "reciprocal":
        value = 1 / (d.abs() * (1 / value_at_margin - 1) + 1)
    elif sigmoid == "quadratic":
        scaled = d * math.sqrt(1 - value_at_margin)
        value = torch.where(scaled.abs() < 1, 1 - scaled * scaled, torch.zeros_like(scaled))
    elif sigmoid == "hyperbolic":
        value = 1 / torch.cosh(d * math.acosh(1 / value_at_margin))
    elif sigmoid == "cosine":
        scaled = d * math.acos(2 * value_at_margin - 1) / math.pi
        value = torch.where(scaled.abs() < 1, (1 + torch.cos(math.pi * scaled)) / 2, torch.zeros_like(scaled))
    elif sigmoid == "tanh_squared":
        value = 1 - torch.tanh(d * math.atanh(math.sqrt(1 - value_at_margin))) ** 2
    else:
        raise ValueError(f"Unknown sigmoid type {sigmoid!r}.")
    value = torch.where(margin > 0, value, torch.zeros_like(value))
    return torch.where(in_bounds, torch.ones_like(value), value)


def inverse_tolerance(x: Tensor, lower: float, upper: float, margin: float | Tensor,
                      sigmoid: str = "reciprocal") -> Tensor:
    """``reward_utils.inverse_tolerance``: 0 inside the bounds, towards 1 outside."""
    return 1 - tolerance(x, lower, upper, margin, sigmoid, value_at_margin=0)


def hamacher_product(a: Tensor, b: Tensor) -> Tensor:
    """``reward_utils.hamacher_product`` per world (values in ``[0, 1]``; no range check on the device)."""
    if not isinstance(a, Tensor):
        a = torch.full_like(b, a)
    elif not isinstance(b, Tensor):
        b = torch.full_like(a, b)
    a, b = torch.broadcast_tensors(a, b)
    denominator = a + b - a * b
    return torch.where(denominator > 0, a * b / torch.where(denominator > 0, denominator, 1.0), 0.0)


def rect_prism_tolerance(curr: Tensor, zero: Tensor, one: Tensor) -> Tensor:
    """``reward_utils.rect_prism_tolerance`` per world: ``(W, 3)`` points and corners -> ``(W,)``."""
    zero, one = torch.broadcast_tensors(zero, one)
    inside = ((torch.minimum(zero, one) <= curr) & (curr <= torch.maximum(zero, one))).all(dim=-1)
    diff = one - zero
    diff = torch.where(diff == 0, torch.full_like(diff, 1e-8), diff)
    product = ((curr - zero) / diff).prod(dim=-1)
    return torch.where(inside, product, torch.ones_like(product))


def quat_from_xmat(m: Tensor) -> Tensor:
    """``(W, 3, 3)`` rotation matrices -> ``(W, 4)`` ``[x, y, z, w]`` quaternions as scipy's
    ``Rotation.from_matrix(m).as_quat()`` (Markley's method, scipy's branch choice and sign)."""
    m00, m11, m22 = m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]
    trace = m00 + m11 + m22
    choice = torch.stack([m00, m11, m22, trace], dim=-1).argmax(dim=-1)  # first maximum, as numpy
    candidates = torch.stack([
        torch.stack([1 - trace + 2 * m00, m[:, 1, 0] + m[:, 0, 1], m[:, 2, 0] + m[:, 0, 2],
                     m[:, 2, 1] - m[:, 1, 2]], dim=-1),
        torch.stack([m[:, 1, 0] + m[:, 0, 1], 1 - trace + 2 * m11, m[:, 2, 1] + m[:, 1, 2],
                     m[:, 0, 2] - m[:, 2, 0]], dim=-1),
        torch.stack([m[:, 2, 0] + m[:, 0, 2], m[:, 2, 1] + m[:, 1, 2], 1 - trace + 2 * m22,
                     m[:, 1, 0] - m[:, 0, 1]], dim=-1),
        torch.stack([m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1], 1 + trace], dim=-1),
    ], dim=1)  # (W, 4 choices, 4)
    quat = candidates.gather(1, choice[:, None, None].expand(-1, 1, 4))[:, 0]
    return quat / norm(quat)[:, None]


_CONSTANTS: dict[tuple, Tensor] = {}


def constant(values, like: Tensor) -> Tensor:
    """``values`` (numbers) as a tensor of ``like``'s dtype and device, made once and cached: a kernel's constant
    vectors cost no host-to-device copy per step (and no host sync on CUDA)."""
    key = (tuple(float(v) for v in values), like.dtype, like.device)
    cached = _CONSTANTS.get(key)
    if cached is None:
        cached = _CONSTANTS[key] = torch.tensor(key[0], dtype=like.dtype, device=like.device)
    return cached
