"""Optimizers of the agents.

:class:`FusedAdam`'s lean step reads three private parts of torch: the ``aten::_fused_adam_`` op (called as
``torch._fused_adam_``, with the schema in :data:`FUSED_ADAM_SCHEMA`) and the global step-hook registries
``torch.optim.optimizer._global_optimizer_{pre,post}_hooks``. :func:`private_torch_problem` checks them once at
import; if any is missing or the op's schema differs (a torch upgrade), the lean step is off
(:data:`LEAN_STEP_AVAILABLE`), a warning says why, and every step is the public ``torch.optim.Adam(fused=True)``
step (the same numbers, ~50 us slower per call on the CPU). ``tests/test_optim.py`` asserts that the internals are
there, so CI notices an upgrade that changes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.optim.optimizer as _torch_optimizer
from torch import Tensor

#: device types with torch's fused Adam kernel that mtrl uses (one kernel over all parameters)
FUSED_ADAM_DEVICES = ("cpu", "cuda")

#: the schema of the private fused Adam op that the lean step calls (torch 2.5 - 2.13)
FUSED_ADAM_SCHEMA = (
    "aten::_fused_adam_(Tensor(a!)[] self, Tensor(b!)[] grads, Tensor(c!)[] exp_avgs, Tensor(d!)[] exp_avg_sqs, "
    "Tensor(e!)[] max_exp_avg_sqs, Tensor[] state_steps, *, float lr, float beta1, float beta2, float weight_decay, "
    "float eps, bool amsgrad, bool maximize, Tensor? grad_scale=None, Tensor? found_inf=None) -> ()"
)
_HOOK_REGISTRIES = ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks")


def private_torch_problem() -> str | None:
    """Why the lean step cannot use this torch's private internals, or None when they are as expected."""
    op = getattr(getattr(torch.ops, "aten", None), "_fused_adam_", None)
    if op is None or not callable(getattr(torch, "_fused_adam_", None)):
        return "torch._fused_adam_ is missing"
    schema = str(getattr(getattr(op, "default", None), "_schema", ""))
    if schema != FUSED_ADAM_SCHEMA:
        return f"torch._fused_adam_ has the schema {schema!r}, expected {FUSED_ADAM_SCHEMA!r}"
    for name in _HOOK_REGISTRIES:
        if not isinstance(getattr(_torch_optimizer, name, None), dict):
            return f"torch.optim.optimizer.{name} is missing"
    return None


_PROBLEM = private_torch_problem()
#: whether :class:`FusedAdam` takes its lean step (torch's private internals are as expected)
LEAN_STEP_AVAILABLE = _PROBLEM is None
if _PROBLEM is not None:
    warnings.warn(f"mtrl.optim: {_PROBLEM} (torch {torch.__version__}); FusedAdam falls back to the public "
                  "torch.optim.Adam(fused=True).step", RuntimeWarning, stacklevel=2)


class FusedAdam(torch.optim.Adam):
    """``torch.optim.Adam(fused=True)`` with a leaner ``step``: the same kernels, less Python around them.

    torch's ``step`` spends about 50 us per call on the CPU around its one kernel (gathering every parameter's
    state, grouping the tensors by device and dtype, dispatching on the options); an SAC update makes three such
    calls on small networks, several percent of the update. Once every parameter has its state, this ``step``
    calls the same two kernels (``torch._foreach_add_`` on the step counters, then ``torch._fused_adam_``) itself.
    Results and ``state_dict`` are those of ``torch.optim.Adam(fused=True)`` bit for bit (tests/test_optim.py), so
    checkpoints load in either. torch's ``step`` runs instead on the first step, with a closure, when a gradient is
    missing, with several parameter groups, with options outside plain Adam (amsgrad, capturable,
    differentiable, decoupled weight decay, gradient scaling), or when this torch's private internals are not the
    expected ones (:data:`LEAN_STEP_AVAILABLE`). Step hooks run on both paths.
    """

    def __init__(self, params: Iterable[Tensor], **kwargs: Any) -> None:
        super().__init__(params, **{**kwargs, "fused": True})

    def _lean_step_applies(self) -> bool:
        if not LEAN_STEP_AVAILABLE or len(self.param_groups) != 1:
            return False
        group = self.param_groups[0]
        if group["amsgrad"] or group["capturable"] or group["differentiable"] or group["decoupled_weight_decay"]:
            return False
        return getattr(self, "grad_scale", None) is None and getattr(self, "found_inf", None) is None

    def step(self, closure: Callable[[], float] | None = None, *,  # type: ignore[override]
             grad_divisor: Tensor | None = None) -> float | None:
        """One Adam step; with ``grad_divisor`` (a 0-dim float32 tensor on the parameters' device) every gradient
        is first divided by it, in place: on the lean path inside the fused kernel's one pass over the gradients
        (its ``grad_scale``), which is how :func:`~mtrl.task_gradients.clip_and_step` clips."""
        # torch wraps this method as it wraps its own optimizers' (a profiler scope and the step hooks)
        return self.unwrapped_step(closure, grad_divisor=grad_divisor)

    @property
    def has_step_hooks(self) -> bool:
        """Whether step hooks are registered (on this optimizer or for all optimizers); True when this torch's
        hook registries are not the expected ones, so that :func:`step` takes torch's hooked ``step``."""
        if not LEAN_STEP_AVAILABLE:
            return True
        return bool(self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                    or any(getattr(_torch_optimizer, name) for name in _HOOK_REGISTRIES))

    @torch.no_grad()
    def unwrapped_step(self, closure: Callable[[], float] | None = None, *,
                       grad_divisor: Tensor | None = None) -> float | None:
        """:meth:`step` without torch's per-call wrapper (about 11 us of profiler scope on the CPU), and so
        without the step hooks: for callers that checked :attr:`has_step_hooks` (:func:`step`)."""
        group = self.param_groups[0]
        params = group["params"]
        states = [self.state.get(p) for p in params]
        if (closure is not None or not all(states) or any(p.grad is None for p in params)
                or not self._lean_step_applies()):
            if grad_divisor is not None:
                torch._foreach_div_([p.grad for g in self.param_groups for p in g["params"] if p.grad is not None],
                                    grad_divisor)
            with torch.enable_grad():
                return _unhooked(torch.optim.Adam.step)(self, closure)
        steps = [s["step"] for s in states]
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params, [p.grad for p in params], [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
            [], steps, amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2,
            weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
            grad_scale=grad_divisor, found_inf=None,
        )
        return None


def _unhooked(step: Callable[..., Any]) -> Callable[..., Any]:
    """An optimizer class's ``step`` without the profiling and hook wrapper that torch puts on it once an
    instance exists (``FusedAdam.step`` has its own: hooks must run once)."""
    return step.__wrapped__ if getattr(step, "hooked", False) else step  # type: ignore[attr-defined]


def step(optimizer: torch.optim.Optimizer, grad_divisor: Tensor | None = None) -> None:
    """``optimizer.step()``; a :class:`FusedAdam` without step hooks skips torch's per-call wrapper.
    ``grad_divisor`` (see :meth:`FusedAdam.step`) needs a :class:`FusedAdam`."""
    if isinstance(optimizer, FusedAdam):
        if optimizer.has_step_hooks:
            optimizer.step(grad_divisor=grad_divisor)
        else:
            optimizer.unwrapped_step(grad_divisor=grad_divisor)
        return
    if grad_divisor is not None:
        raise TypeError(f"grad_divisor needs a FusedAdam, got {type(optimizer).__name__}")
    optimizer.step()


def adam(params: Iterable[torch.nn.Parameter], lr: float, device: torch.device, eps: float = 1e-8) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) with torch's fused kernel where the device has one (:class:`FusedAdam`).

    The fused kernel updates every parameter and its two moments in one pass, where the default (single-tensor on
    the CPU) makes about ten passes per parameter tensor; on small networks it also replaces ~10 op launches per
    tensor by one. Same algorithm and hyper-parameters; results differ from the unfused kernels only by rounding.
    Elsewhere (e.g. MPS) torch's default implementation.
    """
    if torch.device(device).type in FUSED_ADAM_DEVICES:
        return FusedAdam(params, lr=lr, eps=eps)
    return torch.optim.Adam(params, lr=lr, eps=eps)
