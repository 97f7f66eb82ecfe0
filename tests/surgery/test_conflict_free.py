"""ConFIG (Liu, Chu, Thuerey 2024, *ConFIG: Towards Conflict-free Training of Physics Informed Neural Networks*;
registry name ``config``): the direction with equal positive cosine to every task gradient, as long as the sum
of the projections; checked by those properties and against torchjd."""

from __future__ import annotations

import pytest

from tests.surgery.asserts import TORCHJD_CASES, TS, assert_close, build, case_jacobian, conflicting_jacobian, ours, run
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestConFIGProperties(DeterministicAggregatorProperties):
    NAME = "config"


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_has_equal_positive_cosine_with_every_task(T):
    J = conflicting_jacobian(T, seed=T)
    d = run(build("config", T), J).direction
    cosines = J @ d / (J.norm(dim=1) * d.norm())
    assert (cosines > 0).all()
    assert_close(cosines, cosines.mean().expand(T), 1e-9)
    unit = d / d.norm()
    assert abs(d.norm() - (J @ unit).sum()) < 1e-9 * d.norm()  # length = sum of the projections


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("config", J), torchjd.ConFIG()(J), 1e-12)
