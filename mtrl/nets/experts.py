"""Several independent MLPs (experts, modules) evaluated as one batched op.

Expert weights are **shared** parameters (used by every task): they are not :class:`TaskSpecific`, so gradient
surgery sees them. Their leading axis is the expert axis ``K``, not the task axis.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from mtrl.nets.layers import activation

# A stacked layer folds the task axis (:func:`stacked_linear`) when tasks x weights reach this: below it the
# autograd.Function's fixed Python cost outweighs the per-task weight copies it avoids. Measured MTSAC updates
# (fold / plain): T=4, 4 experts of 64x64 (T x weights 65k) 1.46x; T=10, 128x128 (655k) 1.11x; T=10, 256x256 (2.6M)
# 0.89x; T=50, 6 experts of 400x400 (48M) ~0.6x.
FOLD_MIN_TASK_WEIGHTS = 1 << 21


def stacked_linear_reference(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """``K`` linear layers at once with plain broadcasting ops: ``x (B, in)`` (one input for all) or
    ``(K, B, in)`` (one per layer), ``weight (K, in, out)``, ``bias (K, out)`` -> ``(K, B, out)``."""
    return torch.matmul(x, weight) + bias.unsqueeze(-2)


class _StackedLinear(torch.autograd.Function):
    """:func:`stacked_linear_reference` with a vmap rule that keeps the shared weights unexpanded.

    Under ``vmap`` over tasks with weights shared by every task (the experts of a mixture), PyTorch's batching
    rule for ``matmul`` expands the weights to one copy per task, so the backward materialises a ``(T, K, in,
    out)`` weight gradient and sums it: at T=50 and 6 experts of 400x400 that is 190 MB per layer and made the
    mixtures' update several times slower than their FLOPs. Here the mapped axis is folded into the rows
    (``(K, T*B, in) @ (K, in, out)``), so the weight gradient is one batched matmul. The backward is written in
    differentiable torch ops, so ``vmap(grad(...))`` (per-task gradients for the surgery) works and gives the same
    values as the reference.
    """

    @staticmethod
    def forward(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:  # type: ignore[override]
        num, fan_in, fan_out = weight.shape
        if x.dim() == 2:  # one input for every layer: a single (B, in) @ (in, K*out) matmul
            y = x @ weight.permute(1, 0, 2).reshape(fan_in, num * fan_out)
            return y.reshape(x.shape[0], num, fan_out).transpose(0, 1) + bias.unsqueeze(-2)
        return torch.baddbmm(bias.unsqueeze(-2), x, weight)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor, Tensor], output: Tensor) -> None:
        x, weight, _ = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # type: ignore[override]
        x, weight = ctx.saved_tensors
        if x.dim() == 2:
            grad_x = torch.einsum("kbo,kio->bi", grad, weight)
            grad_weight = torch.einsum("bi,kbo->kio", x, grad)
        else:
            grad_x = torch.bmm(grad, weight.transpose(1, 2))
            grad_weight = torch.bmm(x.transpose(1, 2), grad)
        return grad_x, grad_weight, grad.sum(1)

    @staticmethod
    def vmap(info: Any, in_dims: tuple[int | None, ...], x: Tensor, weight: Tensor,
             bias: Tensor) -> tuple[Tensor, int]:
        x_dim, w_dim, b_dim = in_dims
        n = info.batch_size
        if x_dim is None or w_dim is not None or b_dim is not None:  # mapped weights: plain broadcasting
            x_ = x.movedim(x_dim, 0) if x_dim is not None else x.expand(n, *x.shape)
            w_ = weight.movedim(w_dim, 0) if w_dim is not None else weight.expand(n, *weight.shape)
            b_ = bias.movedim(b_dim, 0) if b_dim is not None else bias.expand(n, *bias.shape)
            if x_.dim() == 3:  # logical (B, in)
                x_ = x_.unsqueeze(1)
            return stacked_linear_reference(x_, w_, b_), 0
        if x.dim() == 3:  # logical (B, in) -> rows (n*B, in)
            xf = x.movedim(x_dim, 0)
            rows = xf.shape[1]
            y = _StackedLinear.apply(xf.reshape(n * rows, xf.shape[2]), weight, bias)
            return y.reshape(y.shape[0], n, rows, y.shape[2]), 1
        xf = x.movedim(x_dim, 1)  # logical (K, B, in) -> (K, n*B, in)
        num, _, rows, fan_in = xf.shape
        y = _StackedLinear.apply(xf.reshape(num, n * rows, fan_in), weight, bias)
        return y.reshape(num, n, rows, y.shape[2]), 1


def stacked_linear(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """``K`` linear layers at once (values of :func:`stacked_linear_reference`): ``x (B, in)`` or ``(K, B, in)``,
    ``weight (K, in, out)``, ``bias (K, out)`` -> ``(K, B, out)``; cheap under ``vmap`` over tasks."""
    return _StackedLinear.apply(x, weight, bias)


class StackedLinear(nn.Module):
    """``K`` independent linear layers stored stacked: ``weight (K, in, out)``, ``bias (K, out)``.

    ``forward(x)`` takes either one input for all ``(B, in)`` or one per layer ``(K, B, in)`` and returns
    ``(K, B, out)`` in one batched matmul: :func:`stacked_linear` when ``num_tasks`` (the size of the vmap over
    tasks it runs under) times its weights reach ``FOLD_MIN_TASK_WEIGHTS``, plain broadcasting below (same values).
    Each layer is initialised like ``nn.Linear``.
    """

    def __init__(self, num: int, in_features: int, out_features: int, num_tasks: int = 1) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(num, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num, out_features).uniform_(-bound, bound))
        self.fold_tasks = num_tasks * self.weight.numel() >= FOLD_MIN_TASK_WEIGHTS

    def forward(self, x: Tensor) -> Tensor:
        if self.fold_tasks:
            return stacked_linear(x, self.weight, self.bias)
        return stacked_linear_reference(x, self.weight, self.bias)


class ExpertMLPs(nn.Module):
    """``K`` MLPs ``in_dim -> hidden_sizes...`` with their own weights, run together.

    Args:
        num_experts: ``K``.
        in_dim: input features (the same input goes to every expert).
        hidden_sizes: widths of each expert's layers; the output has ``hidden_sizes[-1]`` features.
        act: activation name, applied after every layer except the last when ``activate_last`` is False.
        num_tasks: how many tasks share the experts (picks :class:`StackedLinear`'s implementation).

    ``forward(x (B, in_dim)) -> (K, B, hidden_sizes[-1])``.
    """

    def __init__(self, num_experts: int, in_dim: int, hidden_sizes: list[int], act: str = "relu",
                 activate_last: bool = True, num_tasks: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, width in enumerate(hidden_sizes):
            layers.append(StackedLinear(num_experts, in_dim, width, num_tasks))
            if activate_last or i < len(hidden_sizes) - 1:
                layers.append(activation(act))
            in_dim = width
        self.net = nn.Sequential(*layers)
        self.num_experts = num_experts
        self.out_dim = in_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
