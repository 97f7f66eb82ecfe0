"""Mean: the average of the task gradients, ``d = (1/T) Σ_i g_i`` (the gradient of the mean loss), task weights
``1/T``; the baseline every other method is compared with."""

from __future__ import annotations

import pytest

from tests.surgery.asserts import TORCHJD_CASES, TS, assert_close, assert_equal_task_weights, case_jacobian, ours
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestMeanProperties(DeterministicAggregatorProperties):
    NAME = "mean"


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_is_the_average(T):
    assert_equal_task_weights("mean", T, 1 / T)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("mean", J), torchjd.Mean()(J), 1e-14)
