"""Networks written for one task, run for all tasks at once.

Every mtrl network is an ``nn.Module`` whose ``forward`` is written for **one task**: inputs ``(B, ...)`` and the
task's one-hot vector ``(T,)``. Parameters come in two kinds:

* **shared** parameters are used by every task (the trunk, experts, routers);
* **task-specific** parameters live in modules that subclass :class:`TaskSpecific`; each of their tensors has a
  leading task axis ``(T, ...)`` and, inside ``forward``, the module sees only its own task's slice.

:class:`TaskBatched` runs such a module for all tasks with ``torch.func.vmap`` over the task axis: shared
weights are broadcast (one big matmul), task-specific weights are sliced (a batched matmul). The same
mechanism yields per-task gradients of the shared parameters in one vectorized backward
(:mod:`mtrl.task_gradients`), which is what gradient surgery consumes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

Params = dict[str, Tensor]


class TaskSpecific(nn.Module):
    """Marker base class: every parameter of this module has a leading task axis ``(T, ...)``.

    In the single-task view (inside :class:`TaskBatched`) ``forward`` receives the ``(...)`` slice of its task.
    """


def task_specific_names(module: nn.Module) -> set[str]:
    """Names (as in ``module.named_parameters()``) of the parameters that belong to :class:`TaskSpecific`
    sub-modules."""
    names: set[str] = set()
    for prefix, sub in module.named_modules():
        if isinstance(sub, TaskSpecific):
            for pname, _ in sub.named_parameters(recurse=True):
                names.add(f"{prefix}.{pname}" if prefix else pname)
    return names


def split_parameters(module: nn.Module) -> tuple[Params, Params]:
    """Split ``module``'s parameters into ``(shared, task_specific)`` dicts of the live ``nn.Parameter`` s."""
    specific = task_specific_names(module)
    shared: Params = {}
    task: Params = {}
    for name, p in module.named_parameters():
        (task if name in specific else shared)[name] = p
    return shared, task


class TaskBatched:
    """Runs a single-task-view module for all ``T`` tasks in one vectorized call.

    Args:
        module: the network; ``module(*inputs_for_one_task, task_onehot)`` must work in the single-task view.
        num_tasks: ``T``.

    The callable form ``net(*inputs)`` takes inputs with a leading task axis ``(T, B, ...)`` and returns outputs
    with the same leading axis, using the module's current parameters.

    A module whose attribute ``task_batched_forward`` is true promises that its ``forward`` also works in the
    **task-batched view**: inputs ``(T, B, ...)``, the stacked task-specific parameters ``(T, ...)`` as they are,
    the ``(T, T)`` one-hot matrix, outputs ``(T, B, ...)`` equal to the vmapped single-task view. Then
    ``net(*inputs)`` calls it directly (no ``vmap``, no ``functional_call``: less per-call overhead), and so can
    the losses of methods that need no per-task Jacobian (:class:`~mtrl.task_gradients.SurgeryUpdate`).
    """

    def __init__(self, module: nn.Module, num_tasks: int) -> None:
        self.module = module
        self.num_tasks = num_tasks
        self.shared, self.task = split_parameters(module)
        for name, p in self.task.items():
            if p.shape[0] != num_tasks:
                raise ValueError(
                    f"task-specific parameter {name} has leading size {p.shape[0]}, expected {num_tasks} tasks"
                )
        self.buffers: Params = dict(module.named_buffers())
        #: the module's forward also runs on task-batched inputs directly (see the class docstring)
        self.native = bool(getattr(module, "task_batched_forward", False))
        self._onehots: dict[torch.device, Tensor] = {}

    def task_onehots(self, device: torch.device | str | None = None) -> Tensor:
        """``(T, T)`` identity: row ``t`` is task ``t``'s one-hot vector (made once per device; do not modify)."""
        device = torch.device(device) if device is not None else next(iter(self.module.parameters())).device
        onehots = self._onehots.get(device)
        if onehots is None:
            onehots = self._onehots[device] = torch.eye(self.num_tasks, device=device)
        return onehots

    def single_task_fn(self) -> Callable[..., Any]:
        """``f(shared, task_slice, *inputs, task_onehot)``: the module as a pure function of its parameters."""
        module = self.module
        buffers = self.buffers

        def f(shared: Params, task: Params, *inputs: Any) -> Any:
            return functional_call(module, {**shared, **task, **buffers}, inputs, strict=True)

        return f

    def call(self, shared: Params, task: Params, *inputs: Tensor) -> Any:
        """All-task forward with explicit parameters (e.g. detached or target copies).

        Args:
            shared: shared parameters (no task axis).
            task: task-specific parameters ``(T, ...)``.
            *inputs: tensors with a leading task axis ``(T, ...)``.
        """
        onehots = self.task_onehots(inputs[0].device)
        in_dims = (None, 0) + (0,) * (len(inputs) + 1)
        return vmap(self.single_task_fn(), in_dims=in_dims)(shared, task, *inputs, onehots)

    def __call__(self, *inputs: Tensor) -> Any:
        if self.native:
            return self.module(*inputs, self.task_onehots(inputs[0].device))
        return self.call(self.shared, self.task, *inputs)
