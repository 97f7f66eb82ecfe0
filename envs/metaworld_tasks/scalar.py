"""Scalar (plain Python float) equivalents of metaworld's reward helpers, for the fast backend's task kernels.

Meta-World's reward code runs numpy on 3-vectors, where every call costs about a microsecond of overhead; the same
arithmetic on Python floats costs tens of nanoseconds. Each function here computes what its metaworld twin computes
(``metaworld.utils.reward_utils``, scipy's ``Rotation.from_matrix(m).as_quat()``), in the same order of operations
where that matters, so results agree to floating-point rounding (checked by ``tests/test_envs_fast.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Vec = Sequence[float]

_VALUE_AT_MARGIN = 0.1  # reward_utils' default value of tolerance() at `margin` from the bounds
_LONG_TAIL_SCALE = math.sqrt(1 / _VALUE_AT_MARGIN - 1)
_GAUSSIAN_SCALE = math.sqrt(-2 * math.log(_VALUE_AT_MARGIN))


def norm(a: Vec) -> float:
    """Euclidean norm of a 3-vector (``np.linalg.norm``)."""
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


def dist(a: Vec, b: Vec) -> float:
    """``np.linalg.norm(a - b)`` for 3-vectors."""
    x, y, z = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return math.sqrt(x * x + y * y + z * z)


def dist2(a: Vec, b: Vec) -> float:
    """``np.linalg.norm(a[:2] - b[:2])``: distance in the xy plane."""
    x, y = a[0] - b[0], a[1] - b[1]
    return math.sqrt(x * x + y * y)


def dist_xz(a: Vec, b: Vec) -> float:
    """``np.linalg.norm(a[[0, 2]] - b[[0, 2]])``: distance in the xz plane."""
    x, z = a[0] - b[0], a[2] - b[2]
    return math.sqrt(x * x + z * z)


def tolerance(x: float, lower: float, upper: float, margin: float, sigmoid: str = "gaussian",
              value_at_margin: float = _VALUE_AT_MARGIN) -> float:
    """``reward_utils.tolerance(x, bounds=(lower, upper), margin=margin, sigmoid=sigmoid)`` for a scalar ``x``.

    1 inside ``[lower, upper]``; outside, a sigmoid of the distance to the nearest bound in units of ``margin``
    (0 when ``margin == 0``).
    """
    if margin < 0:
        raise ValueError(f"`margin` must be non-negative. Current value: {margin}")
    if lower <= x <= upper:
        return 1.0
    if margin == 0:
        return 0.0
    d = ((lower - x) if x < lower else (x - upper)) / margin
    if sigmoid == "long_tail":
        scale = _LONG_TAIL_SCALE if value_at_margin == _VALUE_AT_MARGIN else math.sqrt(1 / value_at_margin - 1)
        return 1 / ((d * scale) ** 2 + 1)
    if sigmoid == "gaussian":
        scale = _GAUSSIAN_SCALE if value_at_margin == _VALUE_AT_MARGIN else math.sqrt(-2 * math.log(value_at_margin))
        return math.exp(-0.5 * (d * scale) ** 2)
    if sigmoid == "linear":
        scaled = d * (1 - value_at_margin)
        return 1 - scaled if abs(scaled) < 1 else 0.0
    if sigmoid == "reciprocal":
        return 1 / (abs(d) * (1 / value_at_margin - 1) + 1)
    if sigmoid == "quadratic":
        scaled = d * math.sqrt(1 - value_at_margin)
        return 1 - scaled * scaled if abs(scaled) < 1 else 0.0
    if sigmoid == "hyperbolic":
        return 1 / math.cosh(d * math.acosh(1 / value_at_margin))
    if sigmoid == "cosine":
        scaled = d * math.acos(2 * value_at_margin - 1) / math.pi
        return (1 + math.cos(math.pi * scaled)) / 2 if abs(scaled) < 1 else 0.0
    if sigmoid == "tanh_squared":
        return 1 - math.tanh(d * math.atanh(math.sqrt(1 - value_at_margin))) ** 2
    raise ValueError(f"Unknown sigmoid type {sigmoid!r}.")


def inverse_tolerance(x: float, lower: float, upper: float, margin: float, sigmoid: str = "reciprocal") -> float:
    """``reward_utils.inverse_tolerance``: 0 inside the bounds, rising towards 1 outside."""
    return 1 - tolerance(x, lower, upper, margin, sigmoid, value_at_margin=0)


def hamacher_product(a: float, b: float) -> float:
    """``reward_utils.hamacher_product``: a fuzzy AND of two values in ``[0, 1]``. Generic in the number type: with
    a numpy float32 argument (metaworld's rewards mix in the float32 action) it computes in float32 as metaworld."""
    if not (0.0 <= a <= 1.0 and 0.0 <= b <= 1.0):
        raise ValueError("a and b must range between 0 and 1")
    denominator = a + b - (a * b)
    return (a * b) / denominator if denominator > 0 else 0.0


def rect_prism_tolerance(curr: Vec, zero: Vec, one: Vec) -> float:
    """``reward_utils.rect_prism_tolerance``: 1 inside the axis-aligned prism spanned by ``zero`` and ``one``."""
    inside = all(min(zero[i], one[i]) <= curr[i] <= max(zero[i], one[i]) for i in range(3))
    if not inside:
        return 1.0
    diff = [one[i] - zero[i] for i in range(3)]
    for i in range(3):
        if diff[i] == 0:
            diff[i] = 1e-8
    return ((curr[0] - zero[0]) / diff[0]) * ((curr[1] - zero[1]) / diff[1]) * ((curr[2] - zero[2]) / diff[2])


def quat_from_xmat(m: Vec) -> list[float]:
    """``scipy.spatial.transform.Rotation.from_matrix(m.reshape(3, 3)).as_quat()`` for a row-major rotation matrix
    ``m`` (9 numbers, e.g. MuJoCo's ``xmat``): ``[x, y, z, w]``, by Markley's method with scipy's choice of branch
    and sign (no canonicalisation)."""
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m
    trace = m00 + m11 + m22
    # the branch is the largest of the diagonal and the trace, the first one on ties (scipy's argmax)
    decision = (m00, m11, m22, trace)
    choice = max(range(4), key=decision.__getitem__)
    if choice == 3:
        x, y, z, w = m21 - m12, m02 - m20, m10 - m01, 1 + trace
    elif choice == 0:
        x, y, z, w = 1 - trace + 2 * m00, m10 + m01, m20 + m02, m21 - m12
    elif choice == 1:
        x, y, z, w = m01 + m10, 1 - trace + 2 * m11, m21 + m12, m02 - m20
    else:
        x, y, z, w = m02 + m20, m12 + m21, 1 - trace + 2 * m22, m10 - m01
    n = math.sqrt(x * x + y * y + z * z + w * w)
    return [x / n, y / n, z / n, w / n]
