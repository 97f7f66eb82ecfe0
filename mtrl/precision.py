"""Numeric precision of the networks' matmuls: ``fp32``, ``bf16`` mixed precision, or ``tf32`` (CUDA).

* ``fp32``: everything in float32 (the default).
* ``bf16``: the network forward passes run under ``torch.autocast(dtype=torch.bfloat16)`` (Micikevicius et al.
  2018, "Mixed precision training"; bfloat16: Kalamkar et al. 2019): the hidden layers' matmuls, and so their
  backward matmuls, run in bf16 with float32 accumulation. Parameters, gradients, optimizer states, the output
  heads (:func:`fp32_head`), losses, log-probabilities, TD and GAE targets, temperatures, normalisation statistics
  and the whole gradient surgery (Jacobian, Gramian, solvers) stay float32. The per-layer task Jacobian
  (:class:`~mtrl.task_gradients.LinearTaskGradients`) multiplies bf16 activations and output gradients and
  accumulates into its float32 buffer.
* ``tf32``: float32 tensors whose matmuls (forward and backward of the networks) use TensorFloat-32 on NVIDIA
  Ampere and newer GPUs (10-bit mantissa inputs, float32 accumulation); the surgery stays full float32.

The output heads stay float32 under ``bf16`` because bf16 keeps 8 significant bits: a Q-value near 1000 (the
Meta-World v2 reward's scale) is rounded in steps of 4, larger than the TD errors a converging critic learns
from (``scripts/bench_precision_heads.py`` measures it). A head is one small matmul per task, so the cost is small.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import torch
from torch import Tensor, nn

from mtrl.names import PRECISIONS


@contextmanager
def tf32_matmuls() -> Iterator[None]:
    """float32 matmuls in TensorFloat-32 inside the block (restores the previous setting)."""
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices natively (oneDNN's check: AVX512-BF16 or AMX). Assumed true
    where torch no longer offers the check."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private op: a torch upgrade may move it
        return True


def check_precision(name: str, device: torch.device | str) -> None:
    """Raise ``ValueError`` naming the field if ``name`` is not a precision that ``device`` supports."""
    device = torch.device(device)
    if name not in PRECISIONS:
        raise ValueError(f"precision: unknown {name!r}; valid: {', '.join(PRECISIONS)}")
    if name == "tf32" and device.type != "cuda":
        raise ValueError(f"precision: tf32 needs a CUDA device (TensorFloat-32 matmuls of NVIDIA GPUs), got "
                         f"{device.type}; use fp32 or bf16 there")
    if name == "bf16" and device.type not in ("cpu", "cuda"):
        raise ValueError(f"precision: bf16 autocast runs on cpu and cuda, got {device.type}")


class Precision:
    """Where an agent's network passes run in reduced precision.

    Args:
        name: ``fp32`` | ``bf16`` | ``tf32``.
        device: the agent's device (``tf32`` needs CUDA).

    Use :meth:`forward` around network forward passes (losses, targets, acting) and :meth:`backward` around
    the backward passes of the network losses; never around the surgery or the optimizer step.
    """

    def __init__(self, name: str, device: torch.device | str) -> None:
        check_precision(name, device)
        self.name = name
        self.device_type = torch.device(device).type
        if name == "bf16" and self.device_type == "cpu" and not cpu_has_native_bf16():
            warnings.warn("precision bf16: this CPU has no native bf16 matmuls (AVX512-BF16 or AMX); oneDNN "
                          "emulates them, which is several times slower than fp32 here", RuntimeWarning,
                          stacklevel=2)

    @property
    def reduced(self) -> bool:
        """Whether anything runs below float32."""
        return self.name != "fp32"

    def forward(self) -> AbstractContextManager[Any]:
        """The context of network forward passes."""
        if self.name == "bf16":
            return torch.autocast(self.device_type, dtype=torch.bfloat16)
        if self.name == "tf32":
            return tf32_matmuls()
        return nullcontext()

    def backward(self) -> AbstractContextManager[Any]:
        """The context of backward passes (autocast needs none: a backward runs in its forward's dtypes)."""
        return tf32_matmuls() if self.name == "tf32" else nullcontext()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` run inside :meth:`forward` (``fn`` itself for fp32)."""
        if self.name == "fp32":
            return fn

        def in_precision(*args: Any, **kwargs: Any) -> Any:
            with self.forward():
                return fn(*args, **kwargs)

        in_precision.__qualname__ = getattr(fn, "__qualname__", "fn")
        return in_precision

    def __repr__(self) -> str:
        return f"Precision({self.name!r}, {self.device_type!r})"


def fp32_head(head: nn.Module, features: Tensor) -> Tensor:
    """``head(features)`` in float32 even inside a bf16 autocast region (output heads and their gradients stay
    float32; see the module docstring)."""
    device_type = features.device.type
    if torch.is_autocast_enabled(device_type):
        with torch.autocast(device_type, enabled=False):
            return head(features.float())
    return head(features)
