"""Sum: the sum of the task gradients, ``d = Σ_i g_i`` (``T`` times the mean), task weights ``1``."""

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


class TestSumProperties(DeterministicAggregatorProperties):
    NAME = "sum"


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_is_the_sum(T):
    J = conflicting_jacobian(T)
    total = run(build("sum", T), J)
    assert_close(total.direction, J.sum(0), 1e-14)
    assert torch.equal(total.task_weights, torch.ones(T, dtype=J.dtype))
    assert torch.equal(build("sum", T).loss_weights(torch.ones(T)), torch.ones(T))


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("sum", J), torchjd.Sum()(J), 1e-14)
