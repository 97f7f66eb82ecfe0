"""Mean: the average of the task gradients, ``d = (1/T) Σ_i g_i`` (the gradient of the mean loss), task weights
``1/T``; the baseline every other method is compared with."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import (
    TORCHJD_CASES,
    TS,
    assert_close,
    build,
    case_jacobian,
    conflicting_jacobian,
    ours,
    run,
)
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestMeanProperties(DeterministicAggregatorProperties):
    NAME = "mean"


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_is_the_average(T):
    J = conflicting_jacobian(T)
    mean = run(build("mean", T), J)
    assert_close(mean.direction, J.mean(0), 1e-14)
    assert torch.equal(mean.task_weights, torch.full((T,), 1 / T, dtype=J.dtype))
    assert torch.equal(build("mean", T).loss_weights(torch.ones(T)), torch.full((T,), 1 / T))


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("mean", J), torchjd.Mean()(J), 1e-14)
