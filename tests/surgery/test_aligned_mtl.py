"""Aligned-MTL (Senushkin et al. 2023, *Independent Component Alignment for Multi-Task Learning*): the mean of the
aligned gradient system ``Bᵀ J`` (orthogonal rows of equal norm); checked on full-rank and rank-deficient
Jacobians, on the device eigensolver, on a diverged Jacobian and against torchjd."""

from __future__ import annotations

import pytest
import torch

import mtrl.surgery.aligned_mtl as aligned_mtl_module
from mtrl.surgery import make_surgery
from mtrl.surgery._linalg import eigh_psd, gramian
from tests.surgery.asserts import (
    NUMERICS_T,
    TORCHJD_CASES,
    TS,
    assert_close,
    build,
    case_jacobian,
    conflicting_jacobian,
    offset_uniform_losses,
    ours,
    positive_losses,
    run,
    standard_normal_jacobian,
)
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestAlignedMTLProperties(DeterministicAggregatorProperties):
    NAME = "aligned_mtl"
    INVALID_OPTIONS = [({"scale_mode": "max"}, "scale_mode must be one of")]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("scale_mode", ["min", "median", "rmse"])
def test_aligns_the_gradient_system(T, scale_mode):
    """``Ĵ = Bᵀ J`` has orthogonal rows of equal norm (``Ĵ Ĵᵀ = σ I``, condition number 1), ``d`` is their mean,
    so ``d`` has the same component ``σ/T`` along every aligned gradient."""
    J = conflicting_jacobian(T, P=80, seed=T)
    method = build("aligned_mtl", T, scale_mode=scale_mode)
    out = run(method, J)
    G = gramian(J)
    B = method.balance_transformation(G, J.dtype)
    aligned = B.T @ J
    eigenvalues = torch.linalg.eigvalsh(G)
    sigma = {"min": eigenvalues.min(), "median": eigenvalues.median(), "rmse": eigenvalues.mean()}[scale_mode]
    assert_close(aligned @ aligned.T, sigma * torch.eye(T, dtype=J.dtype), 1e-9)
    assert_close(out.direction, aligned.mean(0), 1e-10)
    assert_close(aligned @ out.direction, (sigma / T).expand(T), 1e-9)


def test_rank_deficient_uses_the_non_zero_spectrum():
    J = conflicting_jacobian(3, P=60)
    J = torch.cat([J, J[:1] + J[1:2]])  # 4 tasks, rank 3
    method = build("aligned_mtl", 4)
    out = run(method, J)
    B = method.balance_transformation(gramian(J), J.dtype)
    aligned = B.T @ J
    eigenvalues = torch.linalg.eigvalsh(gramian(J))[1:]
    projector = aligned @ aligned.T / eigenvalues.min()
    assert_close(projector @ projector, projector, 1e-8)  # σ times a rank-3 orthogonal projector
    assert abs(torch.trace(projector) - 3) < 1e-8
    assert torch.isfinite(out.direction).all()


def test_device_path_equals_the_lapack_path(monkeypatch):
    T = 10
    J = conflicting_jacobian(T, P=80)
    lapack = make_surgery("aligned_mtl", T).combine(J, positive_losses(T)).direction
    monkeypatch.setattr(aligned_mtl_module, "eigh_psd", lambda G: eigh_psd(G, method="jacobi"))
    jacobi = make_surgery("aligned_mtl", T).combine(J, positive_losses(T)).direction
    assert_close(jacobi, lapack, 1e-10)


def test_on_a_diverged_jacobian_returns_non_finite_instead_of_failing_in_eigh():
    jacobian = standard_normal_jacobian()
    jacobian[0, 0] = float("inf")
    direction = make_surgery("aligned_mtl", NUMERICS_T).combine(jacobian, offset_uniform_losses()).direction
    assert not torch.isfinite(direction).all()  # the trainer's non-finite check reports it


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
@pytest.mark.parametrize("scale_mode", ["min", "median", "rmse"])
def test_agrees_with_torchjd(T, seed, scale_mode, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("aligned_mtl", J, scale_mode=scale_mode), torchjd.AlignedMTL(scale_mode=scale_mode)(J),
                 1e-10)
