"""MGDA (Sener & Koltun 2018, after Désidéri 2012): the min-norm point of the convex hull of the task gradients;
checked by its optimality conditions, the paper's Frank-Wolfe solver, the CPU's early exit and torchjd."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import (
    DTYPES,
    TORCHJD_CASES,
    TS,
    assert_close,
    assert_early_exit_gives_the_fixed_work_result,
    assert_non_conflicting,
    badly_scaled_jacobian,
    build,
    case_jacobian,
    conflicting_jacobian,
    ours,
    run,
)
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestMGDAProperties(DeterministicAggregatorProperties):
    NAME = "mgda"
    INVALID_OPTIONS = [({"solver": "simplex"}, "solver must be one of")]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_is_the_min_norm_point_of_the_convex_hull(T):
    """KKT of ``min_{w ∈ Δ} ||w J||²``: ``g_i·d >= ||d||²`` for all i, with equality where ``w_i > 0``."""
    J = conflicting_jacobian(T, seed=T)
    tol = 1e-9
    out = run(build("mgda", T), J)
    w, d = out.task_weights, out.direction
    assert (w >= -1e-12).all() and abs(w.sum() - 1) < 1e-12
    scale = (J @ J.T).diagonal().max()
    margins = (J @ d - d @ d) / scale
    assert (margins >= -tol).all(), margins
    assert (margins[w > 1e-3] <= tol).all(), margins
    assert_non_conflicting(J, d)


@pytest.mark.parametrize("T", TS)
def test_frank_wolfe_approaches_the_same_min_norm_point(T):
    """The paper's Frank-Wolfe (250 steps, stop at a step < 1e-5) solves the same problem less accurately."""
    J = conflicting_jacobian(T, seed=T)
    exact = run(build("mgda", T), J).direction
    frank_wolfe = run(build("mgda", T, solver="frank_wolfe"), J)
    assert frank_wolfe.direction.norm() >= exact.norm() * (1 - 1e-9)  # the interior point is at least as good
    assert frank_wolfe.direction.norm() <= exact.norm() * 1.05
    assert (frank_wolfe.task_weights >= 0).all() and abs(frank_wolfe.task_weights.sum() - 1) < 1e-12


def test_without_conflict_dominated_by_the_shortest_gradient():
    """If one gradient is in the dual cone of the others' hull (g_1 · g_i >= ||g_1||²) it is the answer."""
    g = torch.tensor([[1.0, 0.0], [2.0, 1.0], [2.0, -1.5]], dtype=torch.float64)
    out = run(build("mgda", 3), g)
    assert_close(out.direction, g[0], 1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_stays_the_min_norm_point_when_gradient_norms_span_four_orders(dtype):
    """Fixed iteration counts must suffice for gradient norms from 1e-2 to 1e2 (Gramian entries over 1e8)."""
    J64, J, rtol = badly_scaled_jacobian(dtype)
    mgda = run(build("mgda", 10), J)
    d = mgda.direction.double()
    margins = (J64 @ d - d @ d) / (J64 @ J64.T).diagonal().max()
    assert (margins >= -rtol).all() and (margins[mgda.task_weights > 1e-3] <= rtol).all()


@pytest.mark.parametrize("options", [{}, {"solver": "frank_wolfe"}])
@pytest.mark.parametrize("T", [3, 10, 50])
def test_early_exit_on_the_cpu_gives_the_fixed_work_result(options, T, monkeypatch):
    assert_early_exit_gives_the_fixed_work_result("mgda", T, monkeypatch, **options)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    """Same algorithm (Frank-Wolfe, 100 steps, stop below 1e-3): equal to rounding. Our default interior point is
    at least as close to the min-norm point as torchjd's (shorter or equal direction)."""
    J = case_jacobian(T, seed)
    reference = torchjd.MGDA()(J)
    assert_close(ours("mgda", J, solver="frank_wolfe", max_iters=100, tol=1e-3), reference, 1e-12)
    assert ours("mgda", J).norm() <= reference.norm() * (1 + 1e-12)
