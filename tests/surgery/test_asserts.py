"""Checks of the surgery tests' own inputs and assertions (tests/surgery/asserts.py): the Jacobians conflict or
not as promised, the host-sync detector catches what it must, and ``run`` goes through the method."""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery.base import Aggregator
from tests.surgery.asserts import (
    HostSyncDetector,
    aligned_jacobian,
    assert_no_host_sync,
    assert_valid_output,
    build,
    conflicting_jacobian,
    run,
)


@pytest.mark.parametrize("T", [2, 3, 10])
def test_conflicting_jacobian_has_a_conflict_and_aligned_has_none(T):
    J = conflicting_jacobian(T)
    assert (J @ J.T).min() < 0
    A = aligned_jacobian(T)
    assert (A @ A.T).min() > 0


def test_host_sync_detector_catches_the_usual_suspects():
    x = torch.randn(5)
    for bad in (lambda: x.max().item(), lambda: float(x.sum()), lambda: bool((x > 0).any()), lambda: x[x > 0],
                lambda: torch.tensor([1.0, 2.0]), lambda: torch.nonzero(x), lambda: torch.linalg.eigh(torch.eye(2)),
                lambda: torch.nn.functional.one_hot(torch.arange(3), 3)):
        detector = HostSyncDetector()
        with detector:
            bad()
        assert detector.violations
    assert_no_host_sync(lambda: torch.where(x > 0, 0.0, x).sum() + torch.full((2,), 1.0).mean())


def test_run_uses_the_aggregator_and_weights():
    J = conflicting_jacobian(3)
    out = run(build("mean", 3), J)
    assert isinstance(build("mean", 3), Aggregator)
    assert_valid_output(out, J)
