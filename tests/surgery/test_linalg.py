"""The small device solvers behind the surgery methods: Jacobi eigendecomposition, regularised pseudo-inverse,
interior-point QPs, and the Gramian ``J Jᵀ`` ``(T, T)`` they start from."""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery._linalg import (
    _block_gramian,
    _round_robin_step,
    default_jacobi_sweeps,
    eigh_psd,
    gramian,
    interior_point,
    jacobi_eigh,
    pinv_apply,
    pinv_rcond,
    quadratic,
)
from tests.surgery.asserts import assert_close, standard_normal_jacobian


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


def test_the_gramian_is_exact_at_ordinary_scale_and_finite_at_extreme_ones():
    jacobian = standard_normal_jacobian()
    plain = _block_gramian(jacobian)
    assert torch.equal(gramian(jacobian), (0.5 * (plain + plain.T)).double())  # power-of-two scaling is exact
    for scale in (1e-20, 1e20):
        G = gramian(jacobian * scale)
        assert torch.isfinite(G).all()
        torch.testing.assert_close(G / scale**2, gramian(jacobian), rtol=1e-5, atol=0)
