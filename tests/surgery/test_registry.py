"""The registry, ``make_surgery`` errors, the torchjd adapter and the gradient diagnostics."""

from __future__ import annotations

import inspect

import pytest
import torch

from mtrl.surgery import SURGERY_METHODS, Surgery, list_methods, make_surgery, method_options
from mtrl.surgery.diagnostics import gradient_diagnostics
from tests.surgery.test_helpers import (
    ALL_METHODS,
    STOCHASTIC,
    assert_close,
    conflicting_jacobian,
    one_thread,  # noqa: F401 - autouse fixture
    run,
)

NAMES = ["mean", "sum", "pcgrad", "cagrad", "mgda", "nash_mtl", "fairgrad", "imtl_g", "aligned_mtl", "upgrad",
         "graddrop", "gradvac", "config", "uw", "dwa", "rlw", "famo", "gradnorm"]


def test_the_registry_has_exactly_the_documented_names():
    assert list_methods() == NAMES
    assert list(SURGERY_METHODS) == NAMES
    for name, cls in SURGERY_METHODS.items():
        assert issubclass(cls, Surgery) and cls.name == name
        doc = cls.__doc__ or ""
        assert "Shapes" in doc and ("Definition" in doc or name in ("mean", "sum")), name
        assert all(option in doc for option in method_options(name)), name  # every option documented


@pytest.mark.parametrize("name", ALL_METHODS)
def test_every_name_constructs_with_defaults_and_every_option(name):
    method = make_surgery(name, 4)
    assert method.num_tasks == 4 and method.name == name
    defaults = {p.name: p.default for p in inspect.signature(type(method).__init__).parameters.values()
                if p.name not in ("self", "num_tasks")}
    assert set(defaults) == set(method_options(name))
    assert make_surgery(name, 4, **defaults).name == name  # every option accepted by name


@pytest.mark.parametrize("name", STOCHASTIC)
def test_stochastic_methods_take_a_seed(name):
    assert "seed" in method_options(name)
    make_surgery(name, 3, seed=17)


def test_unknown_name_says_what_is_valid_and_suggests():
    with pytest.raises(ValueError) as err:
        make_surgery("pcgard", 3)
    message = str(err.value)
    assert "'pcgard'" in message and "Did you mean 'pcgrad'?" in message
    assert all(name in message for name in NAMES) and "torchjd:" in message
    with pytest.raises(ValueError, match="unknown surgery method 'xyzzy'"):
        make_surgery("xyzzy", 3)


def test_unknown_option_names_the_option_and_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        make_surgery("cagrad", 3, cc=0.5)
    message = str(err.value)
    assert "cagrad" in message and "'cc'" in message and "did you mean 'c'?" in message
    assert all(option in message for option in ("c", "rescale", "max_iters"))
    with pytest.raises(ValueError, match=r"imtl_g: unknown option 'seed'; valid options: \(none\)"):
        make_surgery("imtl_g", 3, seed=0)


@pytest.mark.parametrize("name,options,match", [
    ("cagrad", {"c": -1.0}, "c must be >= 0"),
    ("cagrad", {"rescale": 3}, "rescale must be one of"),
    ("pcgrad", {"reduction": "max"}, "reduction must be one of"),
    ("mgda", {"solver": "simplex"}, "solver must be one of"),
    ("aligned_mtl", {"scale_mode": "max"}, "scale_mode must be one of"),
    ("nash_mtl", {"update_weights_every": 0}, "update_weights_every must be >= 1"),
    ("gradvac", {"beta": 2.0}, "beta must be in"),
    ("graddrop", {"leak": [0.1, 0.2]}, "leak must be"),
    ("dwa", {"temperature": 0.0}, "temperature must be > 0"),
    ("uw", {"lr": 0.0}, "learning rate must be > 0"),
    ("famo", {"min_loss": [0.0]}, "min_loss must be"),
    ("gradnorm", {"alpha": -1.0}, "alpha must be >= 0"),
    ("rlw", {"seed": -1}, "seed must be >= 0"),
])
def test_invalid_option_values_are_errors(name, options, match):
    with pytest.raises(ValueError, match=match):
        make_surgery(name, 3, **options)


def test_num_tasks_must_be_positive():
    with pytest.raises(ValueError, match="num_tasks"):
        make_surgery("mean", 0)


def test_loss_weightings_without_a_jacobian_and_aggregators_need_one():
    losses = torch.tensor([1.0, 2.0, 3.0])
    for name in ("uw", "dwa", "rlw", "famo"):
        out = make_surgery(name, 3).combine(None, losses)
        assert out.direction is None and out.task_weights.shape == (3,)
    with pytest.raises(ValueError, match="needs the per-task Jacobian"):
        make_surgery("pcgrad", 3).combine(None, losses)
    with pytest.raises(ValueError, match="gradnorm needs the per-task Jacobian"):
        make_surgery("gradnorm", 3).combine(None, losses)


# ---------------------------------------------------------------------------------------------- torchjd


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


# ------------------------------------------------------------------------------------------ diagnostics


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_diagnostics(dtype):
    J = conflicting_jacobian(4, dtype=dtype)
    J[3] = 0.0  # a zero gradient: cosine 0 with everything
    stats = gradient_diagnostics(J)
    norms = J.norm(dim=1)
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    cosines = torch.stack([J[i] @ J[j] / (norms[i] * norms[j]) if norms[j] > 0 else torch.zeros((), dtype=dtype)
                           for i, j in pairs])
    assert_close(stats["grad_norms"], norms, 1e-6)
    assert abs(stats["conflict_fraction"] - (cosines < 0).float().mean()) < 1e-6
    assert abs(stats["mean_cosine"] - cosines.mean()) < 1e-6
    for value in stats.values():
        assert value.dtype == dtype and value.device == J.device
    single = gradient_diagnostics(J[:1])
    assert single["conflict_fraction"] == 0 and single["mean_cosine"] == 0 and single["grad_norms"].shape == (1,)
