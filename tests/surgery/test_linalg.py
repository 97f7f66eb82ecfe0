"""The small device solvers behind the surgery methods: Jacobi eigendecomposition, regularised pseudo-inverse,
interior-point QPs."""

from __future__ import annotations

import pytest
import torch

import mtrl.surgery.aligned_mtl as aligned_mtl_module
from mtrl.surgery import make_surgery
from mtrl.surgery._linalg import (
    _round_robin_step,
    default_jacobi_sweeps,
    eigh_psd,
    interior_point,
    jacobi_eigh,
    pinv_apply,
    pinv_rcond,
    quadratic,
)
from tests.surgery.test_helpers import (
    assert_close,
    conflicting_jacobian,
    one_thread,  # noqa: F401 - autouse fixture
    positive_losses,
)


def random_gramian(n: int, rank: int | None = None, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    rank = n if rank is None else rank
    J = torch.randn(n, rank, generator=g, dtype=torch.float64) @ torch.randn(rank, 3 * n, generator=g,
                                                                            dtype=torch.float64)
    return J @ J.T


@pytest.mark.parametrize("m", [2, 4, 6, 10, 50])
def test_round_robin_meets_every_pair_once_per_sweep_and_returns(m):
    step = _round_robin_step(m, torch.device("cpu"))
    layout, pairs = torch.arange(m), set()
    for _ in range(m - 1):
        pairs |= {frozenset((int(layout[2 * k]), int(layout[2 * k + 1]))) for k in range(m // 2)}
        layout = layout[step]
    assert len(pairs) == m * (m - 1) // 2
    assert torch.equal(layout, torch.arange(m))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 17, 33, 50])
@pytest.mark.parametrize("deficient", [False, True])
def test_jacobi_matches_lapack(n, deficient):
    G = random_gramian(n, rank=max(1, n // 2) if deficient else None, seed=n)
    eigenvalues, V = jacobi_eigh(G, default_jacobi_sweeps(n))
    reference = torch.linalg.eigvalsh(G)
    scale = reference.abs().max()
    tolerance = 1e-9 if deficient else 1e-12
    assert (eigenvalues - reference).abs().max() <= tolerance * scale
    assert (V @ torch.diag(eigenvalues) @ V.T - G).abs().max() <= tolerance * scale
    assert (V.T @ V - torch.eye(n, dtype=G.dtype)).abs().max() <= tolerance
    assert (eigenvalues[1:] >= eigenvalues[:-1]).all()


def test_eigh_psd_dispatch():
    G = random_gramian(4)
    lapack = eigh_psd(G)  # CPU: LAPACK
    jacobi = eigh_psd(G, method="jacobi")
    assert_close(jacobi[0], lapack[0], 1e-12)
    with pytest.raises(ValueError, match="unknown eigensolver"):
        eigh_psd(G, method="qr")


def test_aligned_mtl_device_path_equals_the_lapack_path(monkeypatch):
    T = 10
    J = conflicting_jacobian(T, P=80)
    lapack = make_surgery("aligned_mtl", T).combine(J, positive_losses(T)).direction
    monkeypatch.setattr(aligned_mtl_module, "eigh_psd", lambda G: eigh_psd(G, method="jacobi"))
    jacobi = make_surgery("aligned_mtl", T).combine(J, positive_losses(T)).direction
    assert_close(jacobi, lapack, 1e-10)


@pytest.mark.parametrize("n", [1, 3, 10])
def test_pinv_apply_full_rank_is_the_inverse(n):
    G = random_gramian(n, seed=3)
    rhs = torch.randn(n, dtype=torch.float64)
    assert_close(pinv_apply(G, rhs, rcond=pinv_rcond(torch.float64, n)), torch.linalg.solve(G, rhs), 1e-10)


def test_pinv_apply_rank_deficient_is_the_pseudo_inverse():
    """The numerically-zero eigenvalues (round-off, ~1e-16 relative) leak ~1e-4 through the smooth cut-off."""
    G = random_gramian(6, rank=3, seed=4)
    rhs = torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))  # not in the range
    expected = torch.linalg.pinv(G, hermitian=True, rtol=1e-10) @ rhs
    assert_close(pinv_apply(G, rhs, rcond=pinv_rcond(torch.float64, 6)), expected, 5e-4)


def test_pinv_apply_ill_conditioned_full_rank():
    Q = torch.linalg.qr(torch.randn(8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))[0]
    G = Q @ torch.diag(torch.logspace(0, -5, 8, dtype=torch.float64)) @ Q.T  # condition number 1e5
    rhs = torch.randn(8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert_close(pinv_apply(G, rhs, rcond=pinv_rcond(torch.float64, 8)), torch.linalg.solve(G, rhs), 1e-8)


def test_interior_point_simplex_qp_two_points():
    """min over the segment [a, b] of ||x||²: the closed-form min-norm point of two vectors."""
    a, b = torch.tensor([2.0, 1.0], dtype=torch.float64), torch.tensor([-1.0, 1.0], dtype=torch.float64)
    J = torch.stack((a, b))
    G = J @ J.T
    gamma = ((b - a) @ b / ((b - a) @ (b - a))).clamp(0, 1)
    expected = gamma * a + (1 - gamma) * b
    start = torch.full((1, 2), 0.5, dtype=torch.float64)
    w = interior_point(quadratic(G), torch.zeros_like(start), start, simplex=True, iters=30, tol=1e-13)
    assert_close(w[0] @ J, expected, 1e-10)


def test_interior_point_batched_box_qp():
    """min ½ vᵀGv over v >= u for several u at once, against the KKT conditions."""
    G = random_gramian(4, seed=5) / 100
    lower = torch.eye(4, dtype=torch.float64) - 0.3
    v = interior_point(quadratic(G), lower, lower + 1.0, simplex=False, iters=30, tol=1e-13)
    gradient = v @ G
    assert (v >= lower - 1e-12).all()
    assert (gradient >= -1e-9).all()  # multipliers of v >= u are the gradient
    assert ((v - lower) * gradient).abs().max() <= 1e-9  # complementarity


@pytest.mark.parametrize("name,options", [("mgda", {}), ("mgda", {"solver": "frank_wolfe"}), ("upgrad", {})])
@pytest.mark.parametrize("T", [3, 10, 50])
def test_early_exit_on_the_cpu_gives_the_fixed_work_result(name, options, T, monkeypatch):
    """On the CPU the loops stop once every problem has converged; converged iterates do not move, so the
    result is bit-identical to running every iteration (what accelerators do)."""
    import mtrl.surgery._linalg as linalg

    J = conflicting_jacobian(T, P=200, seed=T) * torch.logspace(-1, 1, T, dtype=torch.float64).unsqueeze(1)
    early = make_surgery(name, T, **options).combine(J, torch.ones(T))
    monkeypatch.setattr(linalg, "EARLY_EXIT_ON_CPU", False)
    fixed = make_surgery(name, T, **options).combine(J, torch.ones(T))
    assert torch.equal(early.direction, fixed.direction) and torch.equal(early.task_weights, fixed.task_weights)
