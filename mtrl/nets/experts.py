"""Several independent MLPs (experts, modules) evaluated as one batched op.

Expert weights are **shared** parameters (used by every task): they are not :class:`TaskSpecific`, so gradient
surgery sees them. Their leading axis is the expert axis ``K``, not the task axis.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mtrl.nets.layers import activation


class StackedLinear(nn.Module):
    """``K`` independent linear layers stored stacked: ``weight (K, in, out)``, ``bias (K, out)``.

    ``forward(x)`` takes either one input for all ``(B, in)`` or one per layer ``(K, B, in)`` and returns
    ``(K, B, out)`` in one batched matmul. Each layer is initialised like ``nn.Linear``.
    """

    def __init__(self, num: int, in_features: int, out_features: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(num, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num, out_features).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        return torch.matmul(x, self.weight) + self.bias.unsqueeze(-2)


class ExpertMLPs(nn.Module):
    """``K`` MLPs ``in_dim -> hidden_sizes...`` with their own weights, run together.

    Args:
        num_experts: ``K``.
        in_dim: input features (the same input goes to every expert).
        hidden_sizes: widths of each expert's layers; the output has ``hidden_sizes[-1]`` features.
        act: activation name, applied after every layer except the last when ``activate_last`` is False.

    ``forward(x (B, in_dim)) -> (K, B, hidden_sizes[-1])``.
    """

    def __init__(self, num_experts: int, in_dim: int, hidden_sizes: list[int], act: str = "relu",
                 activate_last: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, width in enumerate(hidden_sizes):
            layers.append(StackedLinear(num_experts, in_dim, width))
            if activate_last or i < len(hidden_sizes) - 1:
                layers.append(activation(act))
            in_dim = width
        self.net = nn.Sequential(*layers)
        self.num_experts = num_experts
        self.out_dim = in_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
