"""IMTL-G (Liu et al. 2021, *Towards Impartial Multi-task Learning*): the direction with equal projections on
every unit task gradient; checked by that property and against torchjd."""

from __future__ import annotations

import pytest

from tests.surgery.asserts import TORCHJD_CASES, TS, assert_close, build, case_jacobian, conflicting_jacobian, ours, run
from tests.surgery.properties import DeterministicAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestIMTLGProperties(DeterministicAggregatorProperties):
    NAME = "imtl_g"


# ------------------------------------------------------------------------------------------- what the paper defines


@pytest.mark.parametrize("T", TS)
def test_gives_equal_projections_on_every_unit_gradient(T):
    J = conflicting_jacobian(T, seed=T)
    out = run(build("imtl_g", T), J)
    projections = J @ out.direction / J.norm(dim=1)
    assert_close(projections, projections.mean().expand(T), 1e-9)
    assert projections.mean() > 0
    assert abs(out.task_weights.sum() - 1) < 1e-12


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("imtl_g", J), torchjd.IMTLG()(J), 1e-10)
