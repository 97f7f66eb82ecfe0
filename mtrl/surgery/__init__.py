"""Gradient surgery: how the per-task gradients of the shared parameters become one update.

Every method implements the seam of :mod:`mtrl.surgery.base`: ``combine(jacobian (T, P), losses (T,)) ->
Combined(direction (P,), task_weights (T,))``. Build one by name::

    from mtrl.surgery import make_surgery, list_methods
    surgery = make_surgery("cagrad", num_tasks=10, c=0.4)
    surgery = make_surgery("torchjd:UPGrad", num_tasks=10)   # any torchjd aggregator, for comparison

or from a config: ``surgery.name=pcgrad surgery.options.seed=1``. Unknown names and options are errors that say
what is valid.

Methods
-------

The methods are the registry :data:`SURGERY_METHODS` below; :func:`methods_table` writes their table (name,
paper, options with their defaults, family, whether the Jacobian is needed) from it, and ``docs/surgery.md`` shows
that table. Family **A** (:class:`~mtrl.surgery.base.Aggregator`): a function of the Jacobian,
``aggregate(J) -> d``; **L** (:class:`~mtrl.surgery.base.LossWeighting`): weights from the losses, ``d = w @ J``,
``aggregate(J, losses) -> d``. Without the per-task gradients (``needs_jacobian`` False) the agent runs one
ordinary backward of ``(w * losses).sum()``. ``torchjd:<A>`` builds torchjd's aggregator ``A`` with ``A``'s
constructor arguments (family A, needs the Jacobian).

Scale, what the task weights sum to without conflicts: ``1`` (the scale of the mean gradient) for ``mean``,
``pcgrad``, ``cagrad``, ``mgda``, ``imtl_g``, ``upgrad``, ``graddrop``, ``gradvac``, ``rlw``, ``famo``; ``T`` (of
the summed gradient) for ``sum``, ``config``, ``uw``, ``dwa``, ``gradnorm``. ``nash_mtl`` sets the step length
itself (``||d|| = sqrt(T)``), and so does ``fairgrad``; ``aligned_mtl`` scales by the smallest singular value of
``J``. MGDA's ``solver="frank_wolfe"`` defaults to ``max_iters=250``, ``tol=1e-5``.

References:
[1] Yu, Kumar, Gupta, Levine, Hausman, Finn. Gradient Surgery for Multi-Task Learning. NeurIPS 2020.
[2] Liu, Liu, Jin, Stone, Liu. Conflict-Averse Gradient Descent for Multi-task Learning. NeurIPS 2021.
[3] Sener, Koltun. Multi-Task Learning as Multi-Objective Optimization. NeurIPS 2018.
[4] Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik, Fetaya. Multi-Task Learning as a Bargaining Game.
ICML 2022.
[5] Liu, Li, Kuang, Xue, Chen, Yang, Liao, Zhang. Towards Impartial Multi-task Learning. ICLR 2021.
[6] Senushkin, Patakin, Kuznetsov, Konushin. Independent Component Alignment for Multi-Task Learning. CVPR 2023.
[7] Quinton, Rey. Jacobian Descent for Multi-Objective Optimization. arXiv:2406.16232, 2024 (torchjd).
[8] Chen, Ngiam, Huang, Luong, Kretzschmar, Chai, Anguelov. Just Pick a Sign: Optimizing Deep Multitask Models
with Gradient Sign Dropout. NeurIPS 2020.
[9] Wang, Tsvetkov, Firat, Cao. Gradient Vaccine: Investigating and Improving Multi-task Optimization in Massively
Multilingual Models. ICLR 2021.
[10] Liu, Chu, Thuerey. ConFIG: Towards Conflict-free Training of Physics Informed Neural Networks.
arXiv:2408.11104, 2024.
[11] Kendall, Gal, Cipolla. Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry and
Semantics. CVPR 2018.
[12] Liu, Johns, Davison. End-to-End Multi-Task Learning with Attention. CVPR 2019.
[13] Lin, Ye, Xu, Shi, Zhang. Reasonable Effectiveness of Random Weighting: A Litmus Test for Multi-Task
Learning. TMLR 2022 (arXiv:2111.10603, 2021).
[14] Liu, Liu, Stone, Liu. FAMO: Fast Adaptive Multitask Optimization. NeurIPS 2023.
[15] Chen, Badrinarayanan, Lee, Rabinovich. GradNorm: Gradient Normalization for Adaptive Loss Balancing in
Deep Multitask Networks. ICML 2018.
[16] Ban, Ji. Fair Resource Allocation in Multi-Task Learning. ICML 2024.

Definition choices (details in each class's docstring):

* ``pcgrad``, ``gradvac``, ``graddrop`` **average** the adjusted gradients by default (``reduction="mean"``), so
  that without conflicts they equal ``mean`` exactly; ``reduction="sum"`` gives the papers' (and torchjd's) sum.
* ``cagrad`` divides by ``1 + c²`` (``rescale=1``, the authors' default; ``0`` none, ``2`` by ``1 + c``).
  ``c = 0`` is ``mean``.
* ``nash_mtl`` returns the exact bargaining solution ``w ⊙ (G w) = 1`` (``||d||² = T``); ``max_norm`` optional.
  (The authors' convex-program solver, ported by torchjd, only reaches ``w_i (G w)_i >= 1``, often with slack.)
* ``fairgrad`` solves ``G w = w^(-1/α)`` exactly (``α = 1`` is ``nash_mtl``) by a line-searched Newton method on
  the device, on the Gramian normalised by its mean diagonal (the authors call scipy's least squares on the host).
* ``aligned_mtl`` and ``upgrad`` combine with the mean preference vector ``1/T`` (as torchjd); ``config`` keeps the
  paper's length (sum of projections).
* ``uw`` weights are ``exp(-s)`` (start at 1); ``dwa`` weights sum to ``T``; ``rlw`` and ``famo`` weights sum to 1;
  ``gradnorm`` weights are renormalised to sum to ``T``.

Numerics: methods that solve something (mgda, cagrad, upgrad, nash_mtl, fairgrad, imtl_g, config, aligned_mtl)
work on the ``T x T`` Gramian in float64 on the Jacobian's device, with fixed iteration counts and no host
synchronisation (see :mod:`mtrl.surgery._linalg`). Stochastic methods draw from a seeded ``torch.Generator`` on
the device, kept in ``state_dict()``. Conflict statistics for logging:
:func:`mtrl.surgery.diagnostics.gradient_diagnostics`.

Cost: apart from ``J Jᵀ`` and ``w @ J`` (two passes over the ``(T, P)`` Jacobian) everything is ``T x T`` work,
but the solvers launch many small kernels, which is what they cost on a GPU: about 2.8k ops per call for mgda,
2.4k upgrad, 5.8k cagrad (50 iterations; on the CPU it stops at 10-20), 0.6k nash_mtl (independent of T),
7.1k fairgrad (100 iterations; on the CPU it stops at 5-30), 18 per task for pcgrad and 45 per task for gradvac,
and 10k for aligned_mtl at T = 50 off the CPU (Jacobi sweeps; LAPACK on the CPU). Static shapes and no host
syncs make the deterministic methods capturable in a CUDA graph.
``torchjd:`` methods run torchjd's host-side solvers and do synchronise.

Adding a method: one file defining a :class:`~mtrl.surgery.base.Surgery` subclass with a ``name``, and one line in
``SURGERY_METHODS`` below.
"""

from __future__ import annotations

import collections.abc
import difflib
import importlib
import inspect
import types
import typing
from typing import Any

from mtrl.surgery.base import Aggregator, Combined, LossWeighting, Surgery

TORCHJD_PREFIX = "torchjd:"


def _load(module: str, cls: str, name: str | None = None) -> type[Surgery]:
    """The method class ``cls`` of ``mtrl.surgery.<module>``; its ``name`` must be ``name`` (default: ``module``)."""
    method = getattr(importlib.import_module(f"mtrl.surgery.{module}"), cls)
    if method.name != (name or module):
        raise RuntimeError(f"mtrl.surgery.{module}.{cls}.name is {method.name!r}, expected {name or module!r}")
    return method


#: registry: method name -> class (the module of the same name defines it; ConFIG's ``config`` is in
#: ``conflict_free.py``, a name that reads as the method rather than as a configuration)
SURGERY_METHODS: dict[str, type[Surgery]] = {
    "mean": _load("mean", "Mean"),
    "sum": _load("sum", "Sum"),
    "pcgrad": _load("pcgrad", "PCGrad"),
    "cagrad": _load("cagrad", "CAGrad"),
    "mgda": _load("mgda", "MGDA"),
    "nash_mtl": _load("nash_mtl", "NashMTL"),
    "fairgrad": _load("fairgrad", "FairGrad"),
    "imtl_g": _load("imtl_g", "IMTLG"),
    "aligned_mtl": _load("aligned_mtl", "AlignedMTL"),
    "upgrad": _load("upgrad", "UPGrad"),
    "graddrop": _load("graddrop", "GradDrop"),
    "gradvac": _load("gradvac", "GradVac"),
    "config": _load("conflict_free", "ConFIG", "config"),
    "uw": _load("uw", "UncertaintyWeighting"),
    "dwa": _load("dwa", "DynamicWeightAverage"),
    "rlw": _load("rlw", "RandomLossWeighting"),
    "famo": _load("famo", "FAMO"),
    "gradnorm": _load("gradnorm", "GradNorm"),
}


def list_methods() -> list[str]:
    """Names of the built-in methods, in the registry's order (``torchjd:<A>`` not included)."""
    return list(SURGERY_METHODS)


def methods_table() -> str:
    """The Markdown table of the built-in methods, written from the registry: name, what it is and its paper (the
    first line of the method's module docstring), options with their defaults (the constructor's keyword
    arguments), family (A: :class:`Aggregator`, L: :class:`LossWeighting`) and whether it needs the per-task
    Jacobian."""
    rows = ["| name | method (paper) | options (defaults) | family | Jacobian |", "| --- | --- | --- | --- | --- |"]
    for name, cls in SURGERY_METHODS.items():
        summary = (inspect.getmodule(cls).__doc__ or "").strip().splitlines()[0]
        summary = summary.removeprefix(f"``{name}``: ").rstrip(".").replace("``", "`")
        parameters = inspect.signature(cls.__init__).parameters
        options = ", ".join(f"`{option}={parameters[option].default!r}`" for option in method_options(name))
        family = "A" if issubclass(cls, Aggregator) else "L" if issubclass(cls, LossWeighting) else ""
        rows.append(f"| `{name}` | {summary} | {options} | {family} | {'yes' if cls.needs_jacobian else 'no'} |")
    rows.append(f"| `{TORCHJD_PREFIX}<A>` | torchjd's aggregator `A` | `A`'s constructor arguments | A | yes |")
    return "\n".join(rows) + "\n"


def method_options(name: str) -> list[str]:
    """The options ``make_surgery`` accepts for ``name`` (its constructor's keyword arguments)."""
    if name.startswith(TORCHJD_PREFIX):
        from mtrl.surgery.torchjd_adapter import torchjd_options

        return torchjd_options(name[len(TORCHJD_PREFIX):])
    cls = _method_class(name)
    return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "num_tasks")]


def _method_class(name: str) -> type[Surgery]:
    cls = SURGERY_METHODS.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, list(SURGERY_METHODS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown surgery method {name!r}.{hint} Valid names: {', '.join(SURGERY_METHODS)}, "
                         f"or {TORCHJD_PREFIX}<Aggregator> for a torchjd aggregator")
    return cls


def make_surgery(name: str, num_tasks: int, **options: Any) -> Surgery:
    """Build the method ``name`` for ``num_tasks`` tasks.

    Args:
        name: a key of :data:`SURGERY_METHODS` or ``"torchjd:<Aggregator>"``.
        num_tasks: ``T``.
        **options: the method's options, named as in its docstring (``seed`` for the stochastic ones).

    Raises:
        ValueError: unknown name (with the valid names and the closest match), unknown option (with the method's
            valid options), or an invalid option value.
        ImportError: ``torchjd:`` methods without torchjd (or without the optional dependencies of the torchjd
            aggregator).
    """
    if name.startswith(TORCHJD_PREFIX):
        from mtrl.surgery.torchjd_adapter import TorchJDAggregator

        return TorchJDAggregator(num_tasks, name[len(TORCHJD_PREFIX):], **options)
    cls = _method_class(name)
    valid = method_options(name)
    for option in options:
        if option not in valid:
            close = difflib.get_close_matches(option, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{name}: unknown option {option!r}{hint}; valid options: "
                             f"{', '.join(valid) if valid else '(none)'}")
    _check_option_types(name, cls, options)
    return cls(num_tasks, **options)


def _check_option_types(name: str, cls: type[Surgery], options: dict[str, Any]) -> None:
    """Compare option values with the constructor's annotations (``c: float``), so that ``c="abc"`` is a clear
    ``ValueError`` naming the option rather than a ``TypeError`` from deep inside the method."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except (NameError, TypeError):  # an annotation that does not resolve at runtime: the constructor checks
        return
    for option, value in options.items():
        if option in hints and not _matches(value, hints[option]):
            raise ValueError(f"{name}: option {option!r} must be {_type_name(hints[option])}, got {value!r}")


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    if origin in (list, tuple, collections.abc.Sequence):
        inner = typing.get_args(hint)[:1]
        return isinstance(value, (list, tuple)) and all(_matches(item, inner[0]) for item in value if inner)
    return True  # anything else: left to the constructor


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


__all__ = [
    "SURGERY_METHODS",
    "Aggregator",
    "Combined",
    "LossWeighting",
    "Surgery",
    "list_methods",
    "make_surgery",
    "method_options",
    "methods_table",
]
