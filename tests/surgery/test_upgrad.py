"""UPGrad (Quinton & Rey 2024, *Jacobian Descent for Multi-Objective Optimization*): the mean of the task gradients
projected onto the dual cone; checked for never conflicting, for its two-task closed form, the CPU's early exit
and against torchjd."""

from __future__ import annotations

import pytest

from tests.surgery.asserts import (
    DTYPES,
    TORCHJD_CASES,
    TS,
    aligned_jacobian,
    assert_close,
    assert_early_exit_gives_the_fixed_work_result,
    assert_non_conflicting,
    badly_scaled_jacobian,
    build,
    case_jacobian,
    conflicting_jacobian,
    ours,
    run,
    torchjd_or_skip,
)
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestUPGradProperties(DeterministicAggregatorProperties):
    NAME = "upgrad"
    INVALID_OPTIONS = [({"max_iters": 0}, "need max_iters >= 1 and tol > 0"),
                       ({"tol": 0.0}, "need max_iters >= 1 and tol > 0")]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_never_conflicts(T):
    for seed in range(3):
        J = conflicting_jacobian(T, seed=seed)
        assert_non_conflicting(J, run(build("upgrad", T), J).direction)


@pytest.mark.parametrize("T", TS)
def test_without_conflict_is_the_mean(T):
    J = aligned_jacobian(T)
    assert_close(run(build("upgrad", T), J).direction, J.mean(0), 1e-9)


def test_projects_each_gradient_onto_the_dual_cone():
    """Two tasks: the projection of g_1 onto {x: g_1·x >= 0, g_2·x >= 0} is PCGrad's p_1 when they conflict."""
    J = conflicting_jacobian(2)
    g1, g2 = J
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert_close(run(build("upgrad", 2), J).direction, (p1 + p2) / 2, 1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_never_conflicts_when_gradient_norms_span_four_orders(dtype):
    """Fixed iteration counts must suffice for gradient norms from 1e-2 to 1e2 (Gramian entries over 1e8)."""
    J64, J, rtol = badly_scaled_jacobian(dtype)
    upgrad = run(build("upgrad", 10), J).direction.double()
    assert_non_conflicting(J64, upgrad, rtol=rtol)


@pytest.mark.parametrize("T", [3, 10, 50])
def test_early_exit_on_the_cpu_gives_the_fixed_work_result(T, monkeypatch):
    assert_early_exit_gives_the_fixed_work_result("upgrad", T, monkeypatch)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    """torchjd's quadprog projector regularises the trace-normalised Gramian by 1e-4 (differences up to ~5e-2);
    without that regularisation the two agree to 1e-6."""
    projector_module = pytest.importorskip("torchjd._linalg")
    J = case_jacobian(T, seed)
    tight = torchjd_or_skip(lambda: torchjd.UPGrad(projector=projector_module.QuadprogProjector(
        norm_eps=0.0, reg_eps=1e-12)))
    assert_close(ours("upgrad", J), tight(J), 1e-6)
    assert_close(ours("upgrad", J), torchjd.UPGrad()(J), 0.1)
