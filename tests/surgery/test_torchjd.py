"""Agreement with torchjd's aggregators on random conflicting Jacobians (float64), with the tolerances stated per
method. torchjd's UPGrad, CAGrad and NashMTL need optional solvers (quadprog, cvxpy): those tests skip cleanly
without them (``pip install "torchjd[quadprog_projector,cagrad,nash_mtl]"``)."""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery import make_surgery
from tests.surgery.test_helpers import (
    assert_close,
    build,
    conflicting_jacobian,
    one_thread,  # noqa: F401 - autouse fixture
    run,
)

aggregation = pytest.importorskip("torchjd.aggregation")

CASES = [(T, seed) for T in (2, 3, 10) for seed in range(3)]


def jacobian(T: int, seed: int) -> torch.Tensor:
    return conflicting_jacobian(T, P=80, seed=seed)


def torchjd_or_skip(factory):
    """Build a torchjd aggregator, skipping the test if its optional dependencies are missing."""
    try:
        return factory()
    except ImportError as err:
        pytest.skip(f"torchjd optional dependency missing: {err}")


def ours(name: str, J: torch.Tensor, **options) -> torch.Tensor:
    return run(build(name, J.shape[0], **options), J).direction


@pytest.mark.parametrize("T,seed", CASES)
def test_mean_and_sum(T, seed):
    J = jacobian(T, seed)
    assert_close(ours("mean", J), aggregation.Mean()(J), 1e-14)
    assert_close(ours("sum", J), aggregation.Sum()(J), 1e-14)


@pytest.mark.parametrize("T,seed", CASES)
def test_mgda(T, seed):
    """Same algorithm (Frank-Wolfe, 100 steps, stop below 1e-3): equal to rounding. Our default interior point is
    at least as close to the min-norm point as torchjd's (shorter or equal direction)."""
    J = jacobian(T, seed)
    reference = aggregation.MGDA()(J)
    assert_close(ours("mgda", J, solver="frank_wolfe", max_iters=100, tol=1e-3), reference, 1e-12)
    assert ours("mgda", J).norm() <= reference.norm() * (1 + 1e-12)


@pytest.mark.parametrize("T,seed", CASES)
@pytest.mark.parametrize("reduction,factor", [("sum", 1.0), ("mean", None)])
def test_pcgrad_up_to_the_reduction(T, seed, reduction, factor):
    """torchjd sums the projected gradients; our default averages them (factor 1/T). With T = 2 the projection
    order does not matter; with more tasks only conflict-free Jacobians are order-independent."""
    J = jacobian(T, seed) if T == 2 else 3.0 + jacobian(T, seed).abs()
    factor = factor if factor is not None else 1 / T
    assert_close(ours("pcgrad", J, reduction=reduction), factor * aggregation.PCGrad()(J), 1e-13)


@pytest.mark.parametrize("T,seed", CASES)
def test_imtl_g(T, seed):
    J = jacobian(T, seed)
    assert_close(ours("imtl_g", J), aggregation.IMTLG()(J), 1e-10)


@pytest.mark.parametrize("T,seed", CASES)
@pytest.mark.parametrize("scale_mode", ["min", "median", "rmse"])
def test_aligned_mtl(T, seed, scale_mode):
    J = jacobian(T, seed)
    assert_close(ours("aligned_mtl", J, scale_mode=scale_mode), aggregation.AlignedMTL(scale_mode=scale_mode)(J),
                 1e-10)


@pytest.mark.parametrize("T,seed", CASES)
def test_config(T, seed):
    J = jacobian(T, seed)
    assert_close(ours("config", J), aggregation.ConFIG()(J), 1e-12)


def test_gradvac_two_tasks_over_several_steps():
    """T = 2 (the visiting order is irrelevant), state carried over 4 steps; torchjd adds eps = 1e-8 to raw-scale
    denominators, we to normalised ones: agreement to 1e-5."""
    method, reference = build("gradvac", 2, reduction="sum"), aggregation.GradVac()
    for step in range(4):
        J = jacobian(2, step)
        assert_close(run(method, J).direction, reference(J), 1e-5)


def test_graddrop_without_sign_conflicts():
    """GradDrop is random; with no sign conflict, or with leak 1, nothing is dropped: both are the sum."""
    J = jacobian(3, 0)
    assert_close(ours("graddrop", J.abs(), reduction="sum"), aggregation.GradDrop()(J.abs()), 1e-14)
    leak = torch.ones(3, dtype=J.dtype)
    assert_close(ours("graddrop", J, leak=1.0, reduction="sum"), aggregation.GradDrop(leak=leak)(J), 1e-14)


@pytest.mark.parametrize("T,seed", CASES)
def test_upgrad(T, seed):
    """torchjd's quadprog projector regularises the trace-normalised Gramian by 1e-4 (differences up to ~5e-2);
    without that regularisation the two agree to 1e-6."""
    projector_module = pytest.importorskip("torchjd._linalg")
    J = jacobian(T, seed)
    tight = torchjd_or_skip(lambda: aggregation.UPGrad(projector=projector_module.QuadprogProjector(
        norm_eps=0.0, reg_eps=1e-12)))
    assert_close(ours("upgrad", J), tight(J), 1e-6)
    assert_close(ours("upgrad", J), aggregation.UPGrad()(J), 0.1)


@pytest.mark.parametrize("T,seed", CASES)
def test_cagrad(T, seed):
    """torchjd solves the dual with cvxpy/Clarabel, to ~1e-5; same problem without our rescaling (rescale=0).
    Ours is at least as good in the primal: ``min_i g_i·d`` no lower."""
    J = jacobian(T, seed)
    reference = torchjd_or_skip(lambda: aggregation.CAGrad(c=0.4))(J)
    mine = ours("cagrad", J, rescale=0)
    assert_close(mine, reference, 1e-3)
    scale = (J @ J.T).diagonal().mean()
    assert (J @ mine).min() >= (J @ reference).min() - 1e-8 * scale


@pytest.mark.parametrize("T,seed", CASES)
def test_nash_mtl(T, seed):
    """torchjd ports the authors' solver: a sequence of convex programs whose result satisfies the bargaining
    condition only as an inequality, ``w_i (G w)_i >= 1``, often with slack. Ours solves the equality exactly.
    They agree (to 1e-2) where torchjd's solution is tight; elsewhere we check torchjd's feasibility only."""
    J = jacobian(T, seed)
    reference_weights = torchjd_or_skip(lambda: aggregation.NashMTL(n_tasks=T, max_norm=0.0)).weighting(J)
    G = J @ J.T
    products = reference_weights * (G @ reference_weights)
    assert (products >= 1 - 1e-3).all()
    mine = run(build("nash_mtl", T), J).task_weights
    assert_close(mine * (G @ mine), torch.ones(T, dtype=J.dtype), 1e-9)
    if (products - 1).abs().max() < 1e-3:
        assert_close(mine @ J, reference_weights @ J, 1e-2)


def test_torchjd_adapter_upgrad_equals_ours():
    projector_module = pytest.importorskip("torchjd._linalg")
    J = jacobian(3, 0)
    adapter = torchjd_or_skip(lambda: make_surgery("torchjd:UPGrad", 3, projector=projector_module.QuadprogProjector(
        norm_eps=0.0, reg_eps=1e-12)))
    out = run(adapter, J)
    assert_close(out.direction, ours("upgrad", J), 1e-6)
    assert_close(out.task_weights, run(build("upgrad", 3), J).task_weights, 1e-6)
    default = torchjd_or_skip(lambda: make_surgery("torchjd:UPGrad", 3))
    assert_close(run(default, J).direction, ours("upgrad", J), 0.1)
