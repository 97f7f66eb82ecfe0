"""Nash-MTL (Navon et al. 2022, *Multi-Task Learning as a Bargaining Game*): weights that solve the bargaining
condition ``w ⊙ (G w) = 1``; checked by the condition itself, its options and against torchjd."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import (
    DTYPES,
    TORCHJD_CASES,
    TS,
    assert_close,
    badly_scaled_jacobian,
    build,
    case_jacobian,
    conflicting_jacobian,
    run,
    torchjd_or_skip,
)
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestNashMTLProperties(DeterministicAggregatorProperties):
    NAME = "nash_mtl"
    INVALID_OPTIONS = [({"update_weights_every": 0}, "update_weights_every must be >= 1")]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_weights_satisfy_the_bargaining_condition(T):
    J = conflicting_jacobian(T, P=80, seed=T)
    out = run(build("nash_mtl", T), J)
    w, d = out.task_weights, out.direction
    assert (w > 0).all()
    assert_close(w * (J @ d), torch.ones(T, dtype=J.dtype), 1e-9)
    assert abs(d @ d - T) < 1e-8 * T


def test_max_norm_and_update_every():
    J = conflicting_jacobian(3)
    clipped = run(build("nash_mtl", 3, max_norm=0.5), J).direction
    assert abs(clipped.norm() - 0.5) < 1e-12
    method = build("nash_mtl", 3, update_weights_every=2)
    first = run(method, J).task_weights
    second = run(method, 2 * J).task_weights  # reused, not re-solved
    third = run(method, 2 * J).task_weights  # re-solved: weights scale as 1 / ||J||
    assert torch.equal(first, second)
    assert_close(third, first / 2, 1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_meets_the_bargaining_condition_when_gradient_norms_span_four_orders(dtype):
    """Fixed iteration counts must suffice for gradient norms from 1e-2 to 1e2 (Gramian entries over 1e8)."""
    J64, J, _ = badly_scaled_jacobian(dtype)
    nash = run(build("nash_mtl", 10), J)
    products = nash.task_weights.double() * (J64 @ nash.direction.double())
    assert_close(products, torch.ones(10, dtype=torch.float64), 1e-3 if dtype == torch.float32 else 1e-8)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    """torchjd ports the authors' solver: a sequence of convex programs whose result satisfies the bargaining
    condition only as an inequality, ``w_i (G w)_i >= 1``, often with slack. Ours solves the equality exactly.
    They agree (to 1e-2) where torchjd's solution is tight; elsewhere we check torchjd's feasibility only."""
    J = case_jacobian(T, seed)
    reference_weights = torchjd_or_skip(lambda: torchjd.NashMTL(n_tasks=T, max_norm=0.0)).weighting(J)
    G = J @ J.T
    products = reference_weights * (G @ reference_weights)
    assert (products >= 1 - 1e-3).all()
    mine = run(build("nash_mtl", T), J).task_weights
    assert_close(mine * (G @ mine), torch.ones(T, dtype=J.dtype), 1e-9)
    if (products - 1).abs().max() < 1e-3:
        assert_close(mine @ J, reference_weights @ J, 1e-2)
