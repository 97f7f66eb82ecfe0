"""FusedAdam: torch's fused Adam bit for bit, with its lean step; clip_and_step with it and with other optimizers."""

import copy
import os
import subprocess
import sys

import pytest
import torch

from mtrl import optim
from mtrl.optim import FusedAdam, adam, step
from mtrl.task_gradients import clip_and_step
from tests.helpers import ROOT

SHAPES = [(4, 8, 8), (4, 8), (3, 2, 8, 1), (5,)]


def twins(**options):
    torch.manual_seed(0)
    ours = [torch.nn.Parameter(torch.randn(s)) for s in SHAPES]
    theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    return ours, theirs, FusedAdam(ours, **options), torch.optim.Adam(theirs, fused=True, **options)


def step_both(ours, theirs, a, b, skip=()):
    for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
        g = None if i in skip else torch.randn_like(p)
        p.grad, q.grad = g, (None if g is None else g.clone())
    a.step()
    b.step()


@pytest.mark.parametrize("options", [{"lr": 3e-4}, {"lr": 1e-2, "betas": (0.5, 0.9), "eps": 1e-6},
                                     {"lr": 1e-3, "weight_decay": 0.1}, {"lr": 1e-3, "maximize": True}])
def test_lean_step_is_torchs_fused_adam(options):
    ours, theirs, a, b = twins(**options)
    for _ in range(6):
        step_both(ours, theirs, a, b)
    assert all(torch.equal(p, q) for p, q in zip(ours, theirs, strict=True))
    for sa, sb in zip(a.state_dict()["state"].values(), b.state_dict()["state"].values(), strict=True):
        assert all(torch.equal(sa[k], sb[k]) for k in ("step", "exp_avg", "exp_avg_sq"))


def test_missing_gradients_and_loaded_states_follow_torch():
    """A parameter without a gradient is left alone (torch's rule); a state loaded from torch's Adam continues
    where it was."""
    ours, theirs, a, b = twins(lr=1e-3)
    step_both(ours, theirs, a, b)
    step_both(ours, theirs, a, b, skip={1})
    assert all(torch.equal(p, q) for p, q in zip(ours, theirs, strict=True))
    assert float(a.state[ours[1]]["step"]) == 1
    a.load_state_dict(copy.deepcopy(b.state_dict()))  # as from a file: loading does not copy the moments
    for _ in range(3):
        step_both(ours, theirs, a, b)
    assert all(torch.equal(p, q) for p, q in zip(ours, theirs, strict=True))


def test_adam_is_fused_adam_on_the_cpu():
    opt = adam([torch.nn.Parameter(torch.zeros(3))], 1e-3, torch.device("cpu"))
    assert isinstance(opt, FusedAdam) and opt.param_groups[0]["fused"]


@pytest.mark.parametrize("torch_adam_first", [False, True])
def test_step_hooks_run_once_per_step(torch_adam_first):
    """On torch's first step and on the lean ones alike (also once torch has wrapped Adam's own step)."""
    if torch_adam_first:
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)
    ours, _, a, _ = twins(lr=1e-3)
    calls = []
    a.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    a.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    for i in range(4):
        for p in ours:
            p.grad = torch.randn_like(p)
        a.step() if i % 2 else step(a)  # mtrl's step helper skips torch's wrapper only without hooks
    assert calls == ["pre", "post"] * 4
    assert all(float(s["step"]) == 4 for s in a.state.values())


@pytest.mark.parametrize("max_norm", [1e-2, 1e3])
def test_clip_and_step_with_fused_adam_is_clip_then_adam(max_norm):
    """With FusedAdam the clip is a division inside Adam's pass; the same steps as torch's clip_grad_norm_ then
    torch's Adam, on the first step (torch's path) and the later ones (the lean path), up to float rounding."""
    ours, theirs, a, b = twins(lr=1e-2)
    for _ in range(4):
        for p, q in zip(ours, theirs, strict=True):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        norm = clip_and_step(a, ours, max_norm)
        expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, foreach=True)
        b.step()
        torch.testing.assert_close(norm, expected)
        for p, q in zip(ours, theirs, strict=True):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-6, atol=1e-9)  # the clipped gradients
            torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("max_norm", [1e-3, 1.0, 1e3, 0.0])
def test_clip_and_step_is_torchs_gradient_clipping(max_norm):
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(s)) for s in [(3, 4), (7,), (40, 40)]]
    reference = [torch.nn.Parameter(p.detach().clone()) for p in params]
    for p, q in zip(params, reference, strict=True):
        p.grad = torch.randn_like(p)
        q.grad = p.grad.clone()
    if max_norm > 0:
        expected = torch.nn.utils.clip_grad_norm_(reference, max_norm, foreach=True)
    else:
        expected = torch.linalg.vector_norm(torch.stack([q.grad.norm() for q in reference]))
    norm = clip_and_step(torch.optim.SGD(params, lr=0.0), params, max_norm)
    torch.testing.assert_close(norm, expected, rtol=0, atol=1e-6 if max_norm <= 0 else 0)
    for p, q in zip(params, reference, strict=True):
        assert torch.equal(p.grad, q.grad)


def test_a_gradient_divisor_needs_fused_adam():
    sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(TypeError, match="grad_divisor needs a FusedAdam, got SGD"):
        step(sgd, torch.tensor(2.0))


def test_torchs_private_internals_are_the_ones_the_lean_step_calls():
    """Fails when a torch upgrade removes or changes ``torch._fused_adam_`` or the global step-hook registries:
    users then still run (on torch's public step, see the next tests), and this says what to update."""
    assert optim.private_torch_problem() is None
    assert optim.LEAN_STEP_AVAILABLE


@pytest.mark.parametrize("fault", ["op missing", "schema changed", "hooks missing"])
def test_a_changed_private_internal_is_named(monkeypatch, fault):
    if fault == "op missing":
        monkeypatch.delattr(torch, "_fused_adam_")
        expected = "torch._fused_adam_ is missing"
    elif fault == "schema changed":
        monkeypatch.setattr(optim, "FUSED_ADAM_SCHEMA", optim.FUSED_ADAM_SCHEMA.replace("bool maximize, ", ""))
        expected = "torch._fused_adam_ has the schema"
    else:
        monkeypatch.delattr(optim._torch_optimizer, "_global_optimizer_post_hooks")
        expected = "torch.optim.optimizer._global_optimizer_post_hooks is missing"
    assert optim.private_torch_problem().startswith(expected)


def test_without_the_internals_importing_warns_and_turns_the_lean_step_off():
    code = ("import warnings, torch; del torch._fused_adam_\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import mtrl.optim as o\n"
            "assert not o.LEAN_STEP_AVAILABLE\n"
            "print([str(w.message) for w in caught if w.category is RuntimeWarning][0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "torch._fused_adam_ is missing" in out.stdout and "falls back to the public" in out.stdout


@pytest.fixture
def without_private_internals(monkeypatch):
    """As on a torch whose internals changed: the lean step is off. Yields the number of FusedAdam steps taken by
    torch's public ``Adam.step`` so far (every step, when the fallback works)."""
    monkeypatch.setattr(optim, "LEAN_STEP_AVAILABLE", False)
    public_step = optim._unhooked(torch.optim.Adam.step)
    public_calls = []

    def counted(self, *args, **kwargs):
        if isinstance(self, FusedAdam):
            public_calls.append(1)
        return public_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counted)
    yield public_calls


@pytest.mark.parametrize("options", [{"lr": 3e-4}, {"lr": 1e-3, "weight_decay": 0.1}])
def test_the_fallback_is_torchs_public_step(without_private_internals, options):
    ours, theirs, a, b = twins(**options)
    for i in range(5):
        for p, q in zip(ours, theirs, strict=True):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        step(a) if i % 2 else a.step()
        b.step()
    assert len(without_private_internals) == 5
    assert all(torch.equal(p, q) for p, q in zip(ours, theirs, strict=True))


def test_the_fallback_runs_hooks_once_and_clips(without_private_internals):
    ours, theirs, a, b = twins(lr=1e-2)
    calls = []
    a.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    for _ in range(3):
        for p, q in zip(ours, theirs, strict=True):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        clip_and_step(a, ours, 1e-2)
        torch.nn.utils.clip_grad_norm_(theirs, 1e-2, foreach=True)
        b.step()
    assert calls == ["pre"] * 3 and len(without_private_internals) == 3
    for p, q in zip(ours, theirs, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)
