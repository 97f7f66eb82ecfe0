"""Per-task gradients in one vectorized backward, and the step that feeds them through gradient surgery.

Each task's loss depends only on its own sub-batch, so the ``T`` per-task gradients of the shared parameters
can be had at about the cost of one ordinary backward: ``torch.func.vmap`` of ``torch.func.grad`` over the task
axis turns every shared-weight gradient ``x_tᵀ g_t`` into one batched matmul instead of ``T`` backward passes.
Task-specific parameters (heads, embeddings) come out of the same call with their ordinary gradients and are
never part of the surgery.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import grad, vmap

from mtrl.surgery._weighted import GramianWeightedAggregator
from mtrl.surgery.base import Surgery
from mtrl.surgery.diagnostics import gradient_diagnostics

Params = dict[str, Tensor]


@dataclass
class TaskGradients:
    """Per-task losses and gradients.

    Attributes:
        losses: ``(T,)`` detached per-task losses.
        shared: name -> ``(T, *param.shape)`` per-task gradients of each shared parameter.
        task: name -> ``(T, ...)`` gradients of each task-specific parameter (row ``t`` from task ``t`` only).
        aux: whatever the loss function returned as auxiliary output, batched over tasks.
    """

    losses: Tensor
    shared: Params
    task: Params
    aux: Any

    def jacobian(self) -> Tensor:
        """``(T, P)``: the shared gradients flattened and concatenated in parameter order."""
        return torch.cat([g.reshape(g.shape[0], -1) for g in self.shared.values()], dim=1)


def per_task_gradients(
    loss_fn: Callable[..., tuple[Tensor, Any]],
    shared: Params,
    task: Params,
    inputs: Sequence[Any],
    in_dims: Sequence[int | None] | None = None,
) -> TaskGradients:
    """Gradients of every task's loss with respect to the shared and task-specific parameters.

    Args:
        loss_fn: ``loss_fn(shared, task_slice, *inputs_t) -> (loss scalar, aux)`` written for one task.
        shared: shared parameters (differentiated, broadcast to every task).
        task: task-specific parameters ``(T, ...)`` (differentiated, sliced per task).
        inputs: the remaining arguments; by default each has a leading task axis ``(T, ...)``.
        in_dims: vmap dims for ``inputs`` (``None`` broadcasts an input to every task).
    """
    in_dims = tuple(in_dims) if in_dims is not None else (0,) * len(inputs)

    def with_loss_as_aux(shared_: Params, task_: Params, *args: Any) -> tuple[Tensor, tuple[Tensor, Any]]:
        loss, aux = loss_fn(shared_, task_, *args)
        return loss, (loss.detach(), {} if aux is None else aux)  # func.grad's aux must be a tensor tree

    grad_fn = grad(with_loss_as_aux, argnums=(0, 1), has_aux=True)
    detached_shared = {k: v.detach() for k, v in shared.items()}
    detached_task = {k: v.detach() for k, v in task.items()}
    (g_shared, g_task), (losses, aux) = vmap(grad_fn, in_dims=(None, 0, *in_dims))(
        detached_shared, detached_task, *inputs
    )
    return TaskGradients(losses=losses, shared=g_shared, task=g_task, aux=aux)


def last_layer_columns(shared: Params) -> slice:
    """Columns of the flattened Jacobian that belong to the last module holding shared parameters."""
    names = list(shared)
    last_module = names[-1].rsplit(".", 1)[0]
    start = 0
    for name in names:
        if name.rsplit(".", 1)[0] == last_module:
            break
        start += shared[name].numel()
    return slice(start, sum(p.numel() for p in shared.values()))


@dataclass
class SurgeryStep:
    """What one surgery step reports, as device tensors (no host sync)."""

    losses: Tensor  # (T,)
    task_weights: Tensor  # (T,)
    diagnostics: dict[str, Tensor]


def write_surgery_gradients(
    surgery: Surgery,
    shared: Params,
    task: Params,
    grads: TaskGradients,
    *,
    with_diagnostics: bool = False,
) -> SurgeryStep:
    """Combine per-task gradients with ``surgery`` and write the result into the parameters' ``.grad``.

    The shared parameters receive the surgery's direction; each task-specific parameter receives its task's own
    gradient scaled by the method's task weight (``1/T`` for plain aggregators: the gradient of the mean loss).

    Methods that weight the Gramian (:class:`~mtrl.surgery._weighted.GramianWeightedAggregator`: PCGrad, CAGrad,
    MGDA, Nash-MTL, UPGrad, ...) get the Jacobian as its per-parameter blocks (``G = Σ_b J_b J_bᵀ``,
    ``grad_b = w @ J_b``): the ``(T, P)`` matrix is never assembled, which saves two passes over it. The
    diagnostics need it whole, so with ``with_diagnostics`` it is built as for every other method.
    """
    if isinstance(surgery, GramianWeightedAggregator) and not with_diagnostics:
        blocks = [g.reshape(g.shape[0], -1) for g in grads.shared.values()]
        weights = surgery.weights_of_blocks(blocks)
        for p, block in zip(shared.values(), blocks, strict=True):
            p.grad = (weights @ block).view_as(p).to(p.dtype)
        _write_task_gradients(task, grads, weights)
        return SurgeryStep(losses=grads.losses, task_weights=weights, diagnostics={})
    jacobian = grads.jacobian()
    combined = surgery.combine(jacobian, grads.losses, last_shared=last_layer_columns(shared))
    offset = 0
    for p in shared.values():
        n = p.numel()
        p.grad = combined.direction[offset : offset + n].view_as(p).to(p.dtype)
        offset += n
    _write_task_gradients(task, grads, combined.task_weights)
    diagnostics = gradient_diagnostics(jacobian) if with_diagnostics else {}
    return SurgeryStep(losses=grads.losses, task_weights=combined.task_weights, diagnostics=diagnostics)


def _write_task_gradients(task: Params, grads: TaskGradients, task_weights: Tensor) -> None:
    """Each task-specific parameter's ``.grad``: row ``t`` is task ``t``'s own gradient times its weight."""
    for name, p in task.items():
        g = grads.task[name]
        p.grad = g * task_weights.view(-1, *([1] * (g.dim() - 1))).to(g.dtype)


def clip_and_step(
    optimizer: torch.optim.Optimizer, params: Sequence[nn.Parameter] | Sequence[Tensor], max_grad_norm: float
) -> Tensor:
    """Clip the global gradient norm (no host sync) and step. Returns the pre-clip norm as a device tensor."""
    if max_grad_norm > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm, foreach=True)
    else:
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
    optimizer.step()
    return norm


class SurgeryUpdate:
    """One optimisation step of one network through the surgery seam.

    Two paths give the same result for methods that are a fixed or loss-based weighting:

    * **plain** (``surgery.loss_weights`` returns weights: mean, sum, uw, dwa, rlw, famo): the per-task losses are
      computed for all tasks in one vectorized forward and one ordinary backward of ``(w * losses).sum()`` runs
      (restricted to this network's parameters). When the caller passes ``batched`` (its losses written for
      networks in the task-batched view, see :class:`~mtrl.nets.task_batched.TaskBatched`), that forward is a
      direct call of the live modules instead of ``vmap`` of the single-task loss: the same numbers, less
      overhead;
    * **Jacobian** (all gradient-based methods): :func:`per_task_gradients` then :func:`write_surgery_gradients`.

    Args:
        net: the network, run through :class:`~mtrl.nets.task_batched.TaskBatched`.
        surgery: the method combining per-task gradients.
        optimizer: optimizer over ``net.module.parameters()``.
        max_grad_norm: global gradient-norm clip (<= 0 disables).
        compile: run the plain path's vectorized loss computation (forward and its backward) through
            ``torch.compile``, falling back to eager for good if compilation fails (:class:`~mtrl.compile.
            MaybeCompiled`). The Jacobian path and the diagnostics stay eager.
    """

    def __init__(self, net: Any, surgery: Surgery, optimizer: torch.optim.Optimizer, max_grad_norm: float,
                 compile: bool = False) -> None:
        self.net = net
        self.surgery = surgery
        self.optimizer = optimizer
        self.max_grad_norm = max_grad_norm
        self.params = list(net.module.parameters())
        self.compile = compile
        self._batched_losses: dict[tuple[Any, tuple[int | None, ...] | None], Callable[..., Any]] = {}

    def batched_losses(self, loss_fn: Callable[..., tuple[Tensor, Any]],
                       in_dims: tuple[int | None, ...]) -> Callable[..., Any]:
        """``f(shared, task, *inputs) -> (losses (T,), aux)``: ``loss_fn`` vectorized over the task axis, compiled
        when ``compile`` is set (one compiled function per loss function and ``in_dims``, built once)."""
        return self._compiled((loss_fn, in_dims), loss_fn, lambda: vmap(loss_fn, in_dims=(None, 0, *in_dims)))

    def direct_losses(self, fn: Callable[..., tuple[Tensor, Any]]) -> Callable[..., Any]:
        """``fn`` (already task-batched), compiled when ``compile`` is set (built once per function)."""
        return self._compiled((fn, None), fn, lambda: fn)

    def _compiled(self, key: tuple[Any, tuple[int | None, ...] | None], loss_fn: Callable[..., Any],
                  build: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        """The cached :class:`~mtrl.compile.MaybeCompiled` of ``build()`` for ``key``, made on first use."""
        fn = self._batched_losses.get(key)
        if fn is None:
            from mtrl.compile import MaybeCompiled

            name = getattr(loss_fn, "__qualname__", "loss")
            fn = self._batched_losses[key] = MaybeCompiled(build(), self.compile, f"the {name} update")
        return fn

    def __call__(
        self,
        loss_fn: Callable[..., tuple[Tensor, Any]],
        inputs: Sequence[Any],
        in_dims: Sequence[int | None] | None = None,
        with_diagnostics: bool = False,
        batched: tuple[Callable[..., tuple[Tensor, Any]], Sequence[Any]] | None = None,
    ) -> tuple[SurgeryStep, Any, Tensor]:
        """Run one step. Returns the surgery report, the loss function's aux output (batched over tasks) and the
        pre-clip gradient norm.

        Args:
            loss_fn, inputs, in_dims: the single-task loss (see :func:`per_task_gradients`) and its inputs.
            with_diagnostics: also compute the gradient-conflict statistics (a per-task Jacobian).
            batched: optional ``(fn, fn_inputs)`` with ``fn(*fn_inputs) -> (losses (T,), aux)`` computing the same
                losses with the live modules in the task-batched view; used on the plain path.
        """
        self.optimizer.zero_grad(set_to_none=True)
        in_dims_t = tuple(in_dims) if in_dims is not None else (0,) * len(inputs)
        shared, task = self.net.shared, self.net.task
        if not self.surgery.needs_jacobian:
            if batched is not None:
                losses, aux = self.direct_losses(batched[0])(*batched[1])
            else:
                losses, aux = self.batched_losses(loss_fn, in_dims_t)(shared, task, *inputs)
            weights = self.surgery.loss_weights(losses.detach())
            if weights is None:
                raise TypeError(f"{type(self.surgery).__name__} says it needs no Jacobian but gives no loss weights")
            (weights.detach() * losses).sum().backward(inputs=self.params)
            diagnostics: dict[str, Tensor] = {}
            if with_diagnostics:
                jac = per_task_gradients(loss_fn, shared, task, inputs, in_dims_t).jacobian()
                diagnostics = gradient_diagnostics(jac)
            step = SurgeryStep(losses=losses.detach(), task_weights=weights.detach(), diagnostics=diagnostics)
        else:
            grads = per_task_gradients(loss_fn, shared, task, inputs, in_dims_t)
            aux = grads.aux
            step = write_surgery_gradients(self.surgery, shared, task, grads, with_diagnostics=with_diagnostics)
        norm = clip_and_step(self.optimizer, self.params, self.max_grad_norm)
        return step, aux, norm

