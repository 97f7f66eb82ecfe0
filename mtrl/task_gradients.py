"""Per-task gradients in one vectorized backward, and the step that feeds them through gradient surgery.

Each task's loss depends only on its own sub-batch, so the ``T`` per-task gradients of the shared parameters
can be had at about the cost of one ordinary backward: ``torch.func.vmap`` of ``torch.func.grad`` over the task
axis turns every shared-weight gradient ``x_tᵀ g_t`` into one batched matmul instead of ``T`` backward passes.
Task-specific parameters (heads, embeddings) come out of the same call with their ordinary gradients and are
never part of the surgery. Networks whose shared parameters are all ``nn.Linear`` and which run task-batched
(the plain MLP trunks) take a cheaper route to the same numbers, :class:`LinearTaskGradients`: their own
forward, one ordinary backward to the layer outputs, and one ``bmm`` per layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import grad, vmap

from mtrl.nets.norm import StackedLayerNorm, normalized_input
from mtrl.nets.stacked import StackedLinear
from mtrl.optim import FusedAdam
from mtrl.optim import step as optimizer_step
from mtrl.precision import Precision
from mtrl.surgery._linalg import kept_buffer
from mtrl.surgery._weighted import GramianWeightedAggregator
from mtrl.surgery.base import Surgery
from mtrl.surgery.diagnostics import gradient_diagnostics

Params = dict[str, Tensor]
#: the layers whose per-task gradients LinearTaskGradients computes from their inputs and output gradients
LAYERS = (nn.Linear, StackedLinear, nn.LayerNorm, StackedLayerNorm)
#: the elementwise-affine ones among them: weight gradient ``Σ_rows δ_t ⊙ x̂_t`` instead of a matmul
NORMS = (nn.LayerNorm, StackedLayerNorm)


@dataclass
class TaskGradients:
    """Per-task losses and gradients.

    Attributes:
        losses: ``(T,)`` detached per-task losses.
        shared: name -> ``(T, *param.shape)`` per-task gradients of each shared parameter.
        task: name -> ``(T, ...)`` gradients of each task-specific parameter (row ``t`` from task ``t`` only).
        aux: whatever the loss function returned as auxiliary output, batched over tasks.
        flat: optional ``(T, P)`` matrix of which the ``shared`` gradients are column blocks (views), in order:
            then :meth:`jacobian` is free.
    """

    losses: Tensor
    shared: Params
    task: Params
    aux: Any
    flat: Tensor | None = None

    def jacobian(self) -> Tensor:
        """``(T, P)``: the shared gradients flattened and concatenated in parameter order."""
        if self.flat is not None:
            return self.flat
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


class LinearTaskGradients:
    """Per-task gradients of a network whose shared parameters are all ``nn.Linear`` weights and biases, from
    its task-batched forward and **one** ordinary backward (per-layer grouped per-sample gradients).

    The forward runs the live modules on ``(T, B, ...)`` inputs while forward hooks (registered for that call
    only) record each shared ``Linear``'s input ``x`` and output ``y``; one ``torch.autograd.grad`` of
    ``Σ_t L_t`` gives every output gradient ``δ = ∂(Σ_t L_t)/∂y``. Task ``t``'s loss depends only on its own
    rows, so rows ``t`` of ``δ`` are ``∂L_t/∂y_t`` and its weight gradient is ``δ_tᵀ x_t``: one ``bmm`` over
    tasks, ``(T, out, in)``; its bias gradient is ``Σ_rows δ_t``. The backward computes no shared weight
    gradient of its own (only the activations' gradients and the task-specific parameters'), and the forward
    is the plain task-batched one (fused bias, no ``vmap``): about the cost of the ``mean`` update plus the
    ``bmm``. A ``Linear`` called several times in one loss adds up its calls. A
    :class:`~mtrl.nets.stacked.StackedLinear` (the stacked twin critics) is ``n`` such layers: member ``k``'s
    weight gradient is ``x_{k,t}ᵀ δ_{k,t}``, one ``bmm`` over tasks per member. A shared ``nn.LayerNorm`` (or
    :class:`~mtrl.nets.norm.StackedLayerNorm`, per member) of the MLP trunk's ``layer_norm`` computes
    ``y = x̂ ⊙ weight + bias`` with ``x̂`` its normalised input (recomputed from the recorded input): its
    per-task gradients are ``Σ_rows δ_t ⊙ x̂_t`` and ``Σ_rows δ_t``. Same results as
    :func:`per_task_gradients` up to float rounding (tests/test_task_gradients.py).

    The ``(T, P)`` Jacobian is written into one buffer that every call reuses (a fresh tens-of-MB tensor per
    update costs its page faults on the CPU): a result is valid until the next call.

    Use :meth:`applies_to` first: the path needs the module's direct task-batched forward
    (``TaskBatched.native``) and every shared parameter in a ``Linear``, ``StackedLinear`` or LayerNorm.
    """

    def __init__(self, net: Any) -> None:
        self.net = net
        self._records: list[tuple[nn.Linear, Tensor, Tensor]] | None = None
        layers = self._shared_linears(net)
        if layers is None:
            raise ValueError("LinearTaskGradients needs a task-batched module whose shared parameters are all "
                             "nn.Linear or StackedLinear weights and biases")
        self._linears = list({id(m): m for m, _ in layers.values()}.values())
        #: (id of a shared Linear, "weight" | "bias") -> the parameter's name in ``net.shared``
        self.names = {(id(module), attr): name for name, (module, attr) in layers.items()}
        self._flat: Tensor | None = None  # the Jacobian's buffer, reused by every call

    @staticmethod
    def _shared_linears(net: Any) -> dict[str, tuple[nn.Linear, str]] | None:
        """shared parameter name -> (its ``Linear``, ``"weight"`` or ``"bias"``), or ``None`` if one is not."""
        if not getattr(net, "native", False):
            return None
        layers: dict[str, tuple[nn.Linear, str]] = {}
        for name in net.shared:
            prefix, _, attr = name.rpartition(".")
            module = net.module.get_submodule(prefix) if prefix else net.module
            if not isinstance(module, LAYERS) or attr not in ("weight", "bias"):
                return None
            if isinstance(module, nn.LayerNorm) and len(module.normalized_shape) != 1:
                return None  # normalised over several axes: not the trunk's LayerNorm
            layers[name] = (module, attr)
        return layers

    @staticmethod
    def _task_blocks(layer: nn.Module, x: Tensor, delta: Tensor, T: int) -> list[tuple[Tensor, Tensor, int | None]]:
        """One call of a shared layer as per-task ``(input, output gradient, member)`` blocks, shapes
        ``(T, B, in)`` and ``(T, B, out)``: the layer itself for a ``Linear`` (member ``None``), each member for a
        ``StackedLinear``. Views: the rows are task-major (``(T, B, ...)`` flattened). For a LayerNorm the input
        block is the normalised input ``x̂``."""
        if isinstance(layer, NORMS):
            x = normalized_input(layer, x)
        if isinstance(layer, (StackedLinear, StackedLayerNorm)):  # x (n, R, in) or (R, in), delta (n, R, out)
            if x.dim() == 2:
                x = x.expand(layer.weight.shape[0], *x.shape)
            if x.shape[1] % T:
                raise ValueError(f"a shared {type(layer).__name__} got {x.shape[1]} rows in the task-batched forward; "
                                 f"expected a multiple of the {T} tasks")
            return [(x[k].view(T, -1, x.shape[-1]), delta[k].view(T, -1, delta.shape[-1]), k)
                    for k in range(x.shape[0])]
        if x.shape[0] != T:
            raise ValueError(f"a shared {type(layer).__name__} got input {tuple(x.shape)} in the task-batched forward; "
                             f"expected a leading task axis of {T}")
        return [(x.reshape(T, -1, x.shape[-1]), delta.reshape(T, -1, delta.shape[-1]), None)]

    @classmethod
    def applies_to(cls, net: Any) -> bool:
        return bool(net.shared) and cls._shared_linears(net) is not None

    def _record(self, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if self._records is not None and isinstance(output, Tensor) and output.requires_grad:
            self._records.append((module, inputs[0].detach(), output))  # type: ignore[arg-type]

    def __call__(self, fn: Callable[..., tuple[Tensor, Any]], inputs: Sequence[Any]) -> TaskGradients:
        """:class:`TaskGradients` of ``fn(*inputs) -> (losses (T,), aux)`` written for the task-batched view."""
        self._records = []
        hooks = [layer.register_forward_hook(self._record) for layer in self._linears]  # for this call only
        try:
            losses, aux = fn(*inputs)
        finally:
            for hook in hooks:
                hook.remove()
            records, self._records = self._records, None
        task_params = list(self.net.task.values())
        outputs = [y for _, _, y in records]
        grads = torch.autograd.grad(losses.sum(), outputs + task_params, allow_unused=True)
        T = losses.shape[0]
        # the (T, P) Jacobian, written in place: each parameter's gradients are a view of its column block
        first = next(iter(self.net.shared.values()))
        shape = (T, sum(p.numel() for p in self.net.shared.values()))
        flat = self._flat = kept_buffer(self._flat, shape, first.dtype, first.device)
        shared: Params = {}
        offset = 0
        for name, p in self.net.shared.items():
            shared[name] = flat[:, offset : offset + p.numel()].view(T, *p.shape)
            offset += p.numel()
        written: set[str] = set()
        for (layer, x, _), delta in zip(records, grads[: len(outputs)], strict=True):
            if delta is None:
                continue
            weight_name = self.names.get((id(layer), "weight"))
            bias_name = self.names.get((id(layer), "bias"))
            # under bf16 autocast the layer ran in bf16: its input (float32 at the first layer) is cast as
            # autocast cast it, the products are bf16 matmuls, and they accumulate into the float32 buffer
            x = x.to(delta.dtype)
            for x_t, delta_t, member in self._task_blocks(layer, x, delta, T):
                # (T, out, in) = δ_tᵀ x_t for a Linear; (T, in, out) = x_tᵀ δ_t for a member of a StackedLinear
                if weight_name is not None and isinstance(layer, NORMS):  # (T, width) = Σ_rows δ_t ⊙ x̂_t
                    dest = shared[weight_name] if member is None else shared[weight_name][:, member]
                    if weight_name in written:
                        dest.add_((delta_t * x_t).sum(1))
                    else:
                        torch.sum(delta_t * x_t, dim=1, out=dest)
                elif weight_name is not None:
                    dest = shared[weight_name] if member is None else shared[weight_name][:, member]
                    a, b = (delta_t, x_t) if member is None else (x_t, delta_t)
                    _write_product(dest, a, b, accumulate=weight_name in written)
                if bias_name is not None:
                    dest = shared[bias_name] if member is None else shared[bias_name][:, member]
                    if bias_name in written:
                        dest.add_(delta_t.sum(1, dtype=dest.dtype))
                    else:
                        torch.sum(delta_t, dim=1, dtype=dest.dtype, out=dest)
            written.update(name for name in (weight_name, bias_name) if name is not None)
        for name in shared.keys() - written:
            shared[name].zero_()
        task = {name: (g if g is not None else torch.zeros_like(p))
                for (name, p), g in zip(self.net.task.items(), grads[len(outputs):], strict=True)}
        return TaskGradients(losses=losses.detach(), shared=shared, task=task, aux=aux, flat=flat)


def _write_product(dest: Tensor, a: Tensor, b: Tensor, accumulate: bool) -> None:
    """``dest = aᵀ b`` (``+=`` with ``accumulate``), batched: ``a (T, R, m)``, ``b (T, R, n)``, ``dest (T, m, n)``.
    A bf16 product is a bf16 matmul (float32 accumulation inside it) added into the float32 ``dest``."""
    if a.dtype == dest.dtype:
        if accumulate:
            dest.baddbmm_(a.transpose(1, 2), b)
        else:
            torch.bmm(a.transpose(1, 2), b, out=dest)
        return
    product = torch.bmm(a.transpose(1, 2), b)
    if accumulate:
        dest.add_(product)
    else:
        dest.copy_(product)


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
    """Each task-specific parameter's ``.grad``: row ``t`` is task ``t``'s own gradient times its weight.

    Written in the parameter's own memory layout: autograd may hand a permuted-stride gradient (e.g. through a
    ``movedim``), and torch's fused Adam reads a gradient's memory as if laid out like its parameter."""
    for name, p in task.items():
        g = grads.task[name]
        p.grad = torch.mul(g, task_weights.view(-1, *([1] * (g.dim() - 1))).to(g.dtype), out=torch.empty_like(p))


def clip_and_step(
    optimizer: torch.optim.Optimizer, params: Sequence[nn.Parameter] | Sequence[Tensor], max_grad_norm: float
) -> Tensor:
    """Clip the global gradient norm (no host sync) and step. Returns the pre-clip norm as a device tensor.

    The rule of ``torch.nn.utils.clip_grad_norm_``: gradients times ``min(1, max_norm / (norm + 1e-6))``. With
    :class:`~mtrl.optim.FusedAdam` (the agents' optimizer) the scaling is a division inside Adam's fused pass
    over the gradients (no pass of its own; equal up to float rounding); with other optimizers it is torch's own
    kernels, with the same numbers as ``clip_grad_norm_(foreach=True)``."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        optimizer_step(optimizer)
        return torch.zeros((), device=params[0].device if params else None)
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    if max_grad_norm > 0 and isinstance(optimizer, FusedAdam):
        optimizer_step(optimizer, ((norm + 1e-6) / max_grad_norm).clamp_(min=1.0).to(torch.float32))
        return norm
    if max_grad_norm > 0:
        torch._foreach_mul_(grads, (max_grad_norm / (norm + 1e-6)).clamp_(max=1.0))
    optimizer_step(optimizer)
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
    * **Jacobian** (all gradient-based methods): per-task gradients, then :func:`write_surgery_gradients`. With
      ``batched`` and a network whose shared parameters are all ``nn.Linear`` (:class:`LinearTaskGradients`)
      they come from the task-batched forward and one ordinary backward; otherwise from
      :func:`per_task_gradients` (``vmap``).

    Args:
        net: the network, run through :class:`~mtrl.nets.task_batched.TaskBatched`.
        surgery: the method combining per-task gradients.
        optimizer: optimizer over ``net.module.parameters()``.
        max_grad_norm: global gradient-norm clip (<= 0 disables).
        compile: run the plain path's vectorized loss computation (forward and its backward) through
            ``torch.compile``, falling back to eager for good if compilation fails (:class:`~mtrl.compile.
            MaybeCompiled`). The Jacobian path and the diagnostics stay eager.
        precision: where the loss functions' network passes run in reduced precision
            (:class:`~mtrl.precision.Precision`; default float32). The surgery and the step stay float32.
    """

    def __init__(self, net: Any, surgery: Surgery, optimizer: torch.optim.Optimizer, max_grad_norm: float,
                 compile: bool = False, precision: Precision | None = None) -> None:
        self.net = net
        self.surgery = surgery
        self.optimizer = optimizer
        self.max_grad_norm = max_grad_norm
        self.precision = precision if precision is not None else Precision("fp32", "cpu")
        self.params = list(net.module.parameters())
        self.compile = compile
        self._batched_losses: dict[tuple[Any, tuple[int | None, ...] | None], Callable[..., Any]] = {}
        self._linear_gradients = (LinearTaskGradients(net)
                                  if surgery.needs_jacobian and LinearTaskGradients.applies_to(net) else None)

    def batched_losses(self, loss_fn: Callable[..., tuple[Tensor, Any]],
                       in_dims: tuple[int | None, ...]) -> Callable[..., Any]:
        """``f(shared, task, *inputs) -> (losses (T,), aux)``: ``loss_fn`` vectorized over the task axis, compiled
        when ``compile`` is set (one compiled function per loss function and ``in_dims``, built once)."""
        return self._compiled((loss_fn, in_dims), loss_fn,
                              lambda: vmap(self.precision.wrap(loss_fn), in_dims=(None, 0, *in_dims)))

    def direct_losses(self, fn: Callable[..., tuple[Tensor, Any]]) -> Callable[..., Any]:
        """``fn`` (already task-batched), compiled when ``compile`` is set (built once per function)."""
        return self._compiled((fn, None), fn, lambda: self.precision.wrap(fn))

    def _compiled(self, key: tuple[Any, tuple[int | None, ...] | None], loss_fn: Callable[..., Any],
                  build: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        """The cached :class:`~mtrl.compile.MaybeCompiled` of ``build()`` for ``key``, made on first use."""
        fn = self._batched_losses.get(key)
        if fn is None:
            from mtrl.compile import MaybeCompiled

            name = getattr(loss_fn, "__qualname__", "loss")
            fn = self._batched_losses[key] = MaybeCompiled(build(), self.compile, f"the {name} update")
        return fn

    def _per_task_gradients(self, loss_fn: Callable[..., tuple[Tensor, Any]], inputs: Sequence[Any],
                            in_dims: tuple[int | None, ...]) -> TaskGradients:
        """:func:`per_task_gradients` with the loss's forward in this update's precision."""
        with self.precision.backward():
            return per_task_gradients(self.precision.wrap(loss_fn), self.net.shared, self.net.task, inputs, in_dims)

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
        for p in self.params:  # zero_grad(set_to_none=True), without its per-call profiler scope
            p.grad = None
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
            with self.precision.backward():
                (losses @ weights.detach()).backward(inputs=self.params)  # Σ_t w_t L_t
            diagnostics: dict[str, Tensor] = {}
            if with_diagnostics:
                jac = self._per_task_gradients(loss_fn, inputs, in_dims_t).jacobian()
                diagnostics = gradient_diagnostics(jac)
            step = SurgeryStep(losses=losses.detach(), task_weights=weights.detach(), diagnostics=diagnostics)
        else:
            if batched is not None and self._linear_gradients is not None:
                with self.precision.backward():
                    grads = self._linear_gradients(self.precision.wrap(batched[0]), batched[1])
            else:
                grads = self._per_task_gradients(loss_fn, inputs, in_dims_t)
            aux = grads.aux
            step = write_surgery_gradients(self.surgery, shared, task, grads, with_diagnostics=with_diagnostics)
        norm = clip_and_step(self.optimizer, self.params, self.max_grad_norm)
        return step, aux, norm

