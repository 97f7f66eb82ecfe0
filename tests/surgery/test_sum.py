"""Sum: the sum of the task gradients, ``d = Σ_i g_i`` (``T`` times the mean), task weights ``1``."""

from __future__ import annotations

import pytest

from tests.surgery.asserts import TORCHJD_CASES, TS, assert_close, assert_equal_task_weights, case_jacobian, ours
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestSumProperties(DeterministicAggregatorProperties):
    NAME = "sum"


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_is_the_sum(T):
    assert_equal_task_weights("sum", T, 1.0)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("sum", J), torchjd.Sum()(J), 1e-14)
