"""GradDrop (Chen et al. 2020, *Just Pick a Sign*): per coordinate, keep the gradients of one sign drawn by the
sign purity; checked against the paper's mask written out, its no-conflict and full-leak cases and torchjd."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import TS, assert_close, build, case_jacobian, conflicting_jacobian, ours, run
from tests.surgery.properties import StochasticAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestGradDropProperties(StochasticAggregatorProperties):
    NAME = "graddrop"
    INVALID_OPTIONS = [({"leak": [0.1, 0.2]}, "leak must be")]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_keeps_one_sign_per_coordinate(T, reduction):
    J = conflicting_jacobian(T, P=500)
    d = run(build("graddrop", T, reduction=reduction, seed=3), J).direction
    scale = 1 / T if reduction == "mean" else 1.0
    positive, negative = scale * J.clamp_min(0).sum(0), scale * J.clamp_max(0).sum(0)
    is_positive, is_negative = torch.isclose(d, positive), torch.isclose(d, negative)
    assert (is_positive | is_negative).all()
    mixed = (J > 0).any(0) & (J < 0).any(0)
    assert is_positive[mixed].any() and is_negative[mixed].any()  # both signs get picked somewhere
    purity = 0.5 * (1 + J.sum(0) / J.abs().sum(0))
    strong = purity > 0.97  # almost surely positive
    assert is_positive[strong].float().mean() > 0.9


def test_without_sign_conflict_or_with_full_leak_is_the_mean():
    J = conflicting_jacobian(3, P=200)
    assert_close(run(build("graddrop", 3, leak=1.0), J).direction, J.mean(0), 1e-14)
    A = J.abs()
    assert_close(run(build("graddrop", 3), A).direction, A.mean(0), 1e-14)
    assert_close(run(build("graddrop", 3, leak=[1.0, 1.0, 1.0], reduction="sum"), J).direction, J.sum(0), 1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("leak", [[0.0, 0.3, 0.7, 1.0], 0.0, 0.3])
def test_equals_its_explicit_mask_definition(reduction, leak):
    """The implementation never builds the (T, P) mask; check it against the paper's definition written out
    (per-task leaks, and one leak for all tasks, which has its own code path)."""
    T, P, seed = 4, 3000, 5
    J = conflicting_jacobian(T, P=P)
    d = run(build("graddrop", T, leak=leak, reduction=reduction, seed=seed), J).direction
    uniform = torch.rand(P, generator=torch.Generator().manual_seed(seed * 1_000_003), dtype=J.dtype)
    purity = 0.5 * (1 + J.sum(0) / J.abs().sum(0))
    mask = ((purity > uniform) & (J > 0)) | ((purity < uniform) & (J < 0))
    ell = torch.tensor(leak if isinstance(leak, list) else [leak] * T, dtype=J.dtype)[:, None]
    expected = ((ell + (1 - ell) * mask.to(J.dtype)) * J).sum(0)
    assert_close(d, expected / T if reduction == "mean" else expected, 1e-12)


# ------------------------------------------------------------------------------------------- agreement with torchjd


def test_agrees_with_torchjd_without_sign_conflicts(torchjd):
    """GradDrop is random; with no sign conflict, or with leak 1, nothing is dropped: both are the sum."""
    J = case_jacobian(3, 0)
    assert_close(ours("graddrop", J.abs(), reduction="sum"), torchjd.GradDrop()(J.abs()), 1e-14)
    leak = torch.ones(3, dtype=J.dtype)
    assert_close(ours("graddrop", J, leak=1.0, reduction="sum"), torchjd.GradDrop(leak=leak)(J), 1e-14)
