"""The torchjd adapter: ``make_surgery("torchjd:<Aggregator>", T, **options)`` wraps any of torchjd's aggregators,
with helpful errors, and its UPGrad gives ours."""

from __future__ import annotations

import pytest
import torch

from mtrl.surgery import make_surgery, method_options
from tests.surgery.asserts import assert_close, build, case_jacobian, conflicting_jacobian, ours, run, torchjd_or_skip


def test_torchjd_adapter_wraps_any_aggregator():
    pytest.importorskip("torchjd")
    J = conflicting_jacobian(3)
    mean = run(make_surgery("torchjd:Mean", 3), J)
    assert_close(mean.direction, J.mean(0), 1e-14)
    assert_close(mean.task_weights, torch.full((3,), 1 / 3, dtype=J.dtype), 1e-14)  # weighted: weights reported
    constant = run(make_surgery("torchjd:Constant", 3, weights=[1.0, 2.0, 3.0]), J)  # lists become tensors
    assert_close(constant.direction, torch.tensor([1.0, 2.0, 3.0], dtype=J.dtype) @ J, 1e-14)
    config = run(make_surgery("torchjd:ConFIG", 3), J)  # not weighted: 1/T reported
    assert_close(config.task_weights, torch.full((3,), 1 / 3, dtype=J.dtype), 1e-14)


def test_torchjd_adapter_errors():
    pytest.importorskip("torchjd")
    with pytest.raises(ValueError) as err:
        make_surgery("torchjd:UPGard", 3)
    assert "'UPGard'" in str(err.value) and "Did you mean 'UPGrad'?" in str(err.value)
    assert "MGDA" in str(err.value) and "PCGrad" in str(err.value)
    with pytest.raises(ValueError, match=r"torchjd:MGDA: unknown option 'eps'; valid options: epsilon, max_iters"):
        make_surgery("torchjd:MGDA", 3, eps=0.1)
    assert method_options("torchjd:NashMTL") == ["max_norm", "update_weights_every", "optim_niter"]


def test_torchjd_adapter_fills_n_tasks():
    pytest.importorskip("torchjd")
    try:
        method = make_surgery("torchjd:NashMTL", 3, max_norm=0.0)
    except ImportError:
        pytest.skip("torchjd's NashMTL needs cvxpy and ecos")
    assert method.aggregator.weighting.n_tasks == 3


def test_torchjd_adapter_upgrad_equals_ours():
    projector_module = pytest.importorskip("torchjd._linalg")
    J = case_jacobian(3, 0)
    adapter = torchjd_or_skip(lambda: make_surgery("torchjd:UPGrad", 3, projector=projector_module.QuadprogProjector(
        norm_eps=0.0, reg_eps=1e-12)))
    out = run(adapter, J)
    assert_close(out.direction, ours("upgrad", J), 1e-6)
    assert_close(out.task_weights, run(build("upgrad", 3), J).task_weights, 1e-6)
    default = torchjd_or_skip(lambda: make_surgery("torchjd:UPGrad", 3))
    assert_close(run(default, J).direction, ours("upgrad", J), 0.1)
