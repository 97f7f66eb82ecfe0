"""FairGrad (Ban & Ji 2024): the weights solve ``G w = w^(-1/α)``, checked against the equation itself, against
scipy's root finder, and for its scale behaviour, on random, conflicting and degenerate Gramians."""

from __future__ import annotations

import pytest
import torch

import mtrl.surgery._linalg as linalg_module
from mtrl.surgery._linalg import gramian, regularize
from mtrl.surgery.fairgrad import fair_weights
from tests.surgery.asserts import assert_close, build, conflicting_jacobian, run
from tests.surgery.properties import DeterministicAggregatorProperties

ALPHAS = [0.1, 0.5, 1.0, 2.0, 10.0]


def relative_residual(G: torch.Tensor, w: torch.Tensor, alpha: float) -> float:
    """``max_i |G w - w^(-1/α)|_i / (|G| w + w^(-1/α))_i``: the equation's error relative to its terms."""
    pull = w.pow(-1.0 / alpha)
    return ((G @ w - pull).abs() / (G.abs() @ w + pull)).amax().item()


def degenerate_gramian(T: int, rank: int, seed: int) -> torch.Tensor:
    """Unit-mean-diagonal Gramian of rank ``rank < T`` (tasks share a common direction), regularised as FairGrad
    does for a float32 Jacobian: condition numbers of 1e9 to 1e11."""
    g = torch.Generator().manual_seed(seed)
    J = torch.randn(T, rank, generator=g, dtype=torch.float64) + 2.0 * torch.randn(1, rank, generator=g,
                                                                                  dtype=torch.float64)
    G = J @ J.T
    return regularize(G / G.diagonal().mean(), torch.float32)


@pytest.fixture(params=[True, False], ids=["cpu-early-exit", "fixed-iterations"])
def early_exit(request, monkeypatch):
    """Both code paths: the CPU's early exit and the accelerators' fixed iteration count."""
    monkeypatch.setattr(linalg_module, "EARLY_EXIT_ON_CPU", request.param)


# -------------------------------------------------------------------------------------- properties every method has


class TestFairGradProperties(DeterministicAggregatorProperties):
    NAME = "fairgrad"
    INVALID_OPTIONS = [
        ({"alpha": 0.05}, "alpha"),
        ({"alpha": 11.0}, "alpha"),
        ({"max_iters": 0}, "max_iters"),
    ]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("T", [2, 3, 10, 50])
def test_weights_solve_the_defining_equation_on_conflicting_gramians(T, alpha, early_exit):
    J = conflicting_jacobian(T, P=2 * T + 20, seed=T)
    out = run(build("fairgrad", T, alpha=alpha), J)
    w, d = out.task_weights, out.direction
    assert (w > 0).all()
    G = gramian(J)
    # tolerance: 1e-10 relative to the terms (the solver stops at 1e-12 on the normalised Gramian)
    assert relative_residual(G, w, alpha) < 1e-10
    assert_close(d, w @ J, 1e-12)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("T,rank", [(3, 1), (10, 5), (50, 10)])
def test_weights_solve_the_equation_on_near_singular_gramians(T, rank, alpha, early_exit):
    for seed in range(3):
        G = degenerate_gramian(T, rank, seed)
        w = fair_weights(G, alpha, 100)
        assert torch.isfinite(w).all() and (w > 0).all()
        assert relative_residual(G, w, alpha) < 1e-11, (seed, relative_residual(G, w, alpha))


@pytest.mark.parametrize("alpha", [0.1, 1.0, 3.0, 10.0])
def test_matches_scipys_root_finder(alpha):
    """An independent solver: MINPACK's hybrid method (scipy.optimize.fsolve) in float64 on the same equation,
    started from ones, on random Gramians; the weights agree to 1e-8."""
    optimize = pytest.importorskip("scipy.optimize")
    import numpy as np

    for T, seed in [(3, 0), (5, 1), (10, 2)]:
        g = torch.Generator().manual_seed(seed)
        J = torch.randn(T, 3 * T, generator=g, dtype=torch.float64) + 0.5
        G = J @ J.T
        G = G / G.diagonal().mean()
        A = G.numpy()
        reference = optimize.fsolve(lambda w, A=A: A @ w - np.abs(w) ** (-1.0 / alpha), np.ones(T), xtol=1e-13)
        assert (reference > 0).all() and relative_residual(G, torch.from_numpy(reference), alpha) < 1e-10
        ours = fair_weights(G, alpha, 100)
        assert_close(ours, torch.from_numpy(reference), 1e-8)


def test_alpha_one_is_nash_mtl():
    """At ``α = 1`` the equation is Nash-MTL's ``w ⊙ (G w) = 1``: both give the same direction."""
    J = conflicting_jacobian(10, P=80, seed=3)
    assert_close(run(build("fairgrad", 10, alpha=1.0), J).direction, run(build("nash_mtl", 10), J).direction, 1e-9)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 10.0])
def test_scaling_the_gradients_scales_the_direction_by_the_predicted_power(alpha):
    """``J -> c J`` gives ``w -> c^(-2α/(α+1)) w`` and so ``d -> c^((1-α)/(1+α)) d``."""
    J = conflicting_jacobian(5, P=40)
    base = run(build("fairgrad", 5, alpha=alpha), J)
    for c in (1e-3, 7.0, 1e3):
        scaled = run(build("fairgrad", 5, alpha=alpha), c * J)
        assert_close(scaled.task_weights, base.task_weights * c ** (-2 * alpha / (alpha + 1)), 1e-9)
        assert_close(scaled.direction, base.direction * c ** ((1 - alpha) / (1 + alpha)), 1e-9)


def test_larger_alpha_is_fairer_to_the_task_that_gains_least():
    """α-fairness: raising α raises the smallest improvement ``g_i · d`` relative to the mean one."""
    J = conflicting_jacobian(6, P=50, seed=1)
    spreads = []
    for alpha in (0.1, 1.0, 10.0):
        gains = J @ run(build("fairgrad", 6, alpha=alpha), J).direction
        spreads.append((gains.min() / gains.mean()).item())
    assert spreads[0] < spreads[1] < spreads[2]


def test_deterministic_and_bitwise_repeatable():
    J = conflicting_jacobian(10, P=100, seed=4)
    first = run(build("fairgrad", 10, alpha=2.0), J)
    second = run(build("fairgrad", 10, alpha=2.0), J.clone())
    assert torch.equal(first.direction, second.direction) and torch.equal(first.task_weights, second.task_weights)
