"""PCGrad (Yu et al. 2020, *Gradient Surgery for Multi-Task Learning*): each task gradient loses its component
along every gradient it conflicts with, in a random order; checked against the paper's Algorithm 1 in parameter
space and against torchjd."""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery._linalg import gramian
from tests.surgery.asserts import (
    TORCHJD_CASES,
    TS,
    aligned_jacobian,
    assert_close,
    build,
    case_jacobian,
    conflicting_jacobian,
    ours,
    run,
)
from tests.surgery.properties import StochasticAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestPCGradProperties(StochasticAggregatorProperties):
    NAME = "pcgrad"
    INVALID_OPTIONS = [({"reduction": "max"}, "reduction must be one of")]


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_without_conflict_is_the_mean_or_the_sum(T, reduction):
    J = aligned_jacobian(T)
    out = run(build("pcgrad", T, reduction=reduction), J)
    scale = 1 / T if reduction == "mean" else 1.0
    assert torch.equal(out.task_weights, torch.full((T,), scale, dtype=J.dtype))
    assert_close(out.direction, scale * J.sum(0), 1e-14)


def test_two_conflicting_tasks_remove_each_others_component():
    J = conflicting_jacobian(2)
    g1, g2 = J
    assert g1 @ g2 < 0
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert_close(run(build("pcgrad", 2), J).direction, (p1 + p2) / 2, 1e-13)
    assert_close(run(build("pcgrad", 2, reduction="sum"), J).direction, p1 + p2, 1e-13)
    assert abs(p1 @ g2) < 1e-10 and abs(p2 @ g1) < 1e-10


def reference_pcgrad(J: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """PCGrad in parameter space, visiting ``orders[i]`` for task ``i`` (Algorithm 1 of the paper)."""
    projected = J.clone()
    for i in range(J.shape[0]):
        for j in orders[i].tolist():
            dot = projected[i] @ J[j]
            if j != i and dot < 0:
                projected[i] = projected[i] - dot / (J[j] @ J[j]) * J[j]
    return projected


@pytest.mark.parametrize("T", [3, 10])
def test_gramian_form_equals_projections_in_parameter_space(T):
    J = conflicting_jacobian(T, seed=T)
    method = build("pcgrad", T, seed=5)
    coefficients = method.projected_coefficients(gramian(J))
    # the first draw of seed 5 on the CPU: the generator seeded with 5 * 1_000_003
    generator = torch.Generator().manual_seed(5 * 1_000_003)
    orders = torch.rand(T, T, generator=generator).argsort(dim=1)
    assert_close(coefficients @ J, reference_pcgrad(J, orders), 1e-12)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
@pytest.mark.parametrize("reduction,factor", [("sum", 1.0), ("mean", None)])
def test_agrees_with_torchjd_up_to_the_reduction(T, seed, reduction, factor, torchjd):
    """torchjd sums the projected gradients; our default averages them (factor 1/T). With T = 2 the projection
    order does not matter; with more tasks only conflict-free Jacobians are order-independent."""
    J = case_jacobian(T, seed) if T == 2 else 3.0 + case_jacobian(T, seed).abs()
    factor = factor if factor is not None else 1 / T
    assert_close(ours("pcgrad", J, reduction=reduction), factor * torchjd.PCGrad()(J), 1e-13)
