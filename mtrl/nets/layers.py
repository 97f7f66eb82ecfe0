"""Building blocks in the single-task view (see :mod:`mtrl.nets.task_batched`)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mtrl.nets.norm import hidden_layer
from mtrl.nets.task_batched import TaskSpecific

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


@torch.no_grad()
def he_uniform_(weight: Tensor, bias: Tensor | None, fan_in: int) -> None:
    """He-uniform weights, ``U(±sqrt(6 / fan_in))`` (He et al. 2015, the ReLU gain; JAX's ``he_uniform``), and zero
    biases, in place. ``fan_in`` is given because stacked weights ``(..., in, out)`` and ``nn.Linear``'s
    ``(out, in)`` keep it on different axes."""
    bound = math.sqrt(6.0 / fan_in)
    weight.uniform_(-bound, bound)
    if bias is not None:
        bias.zero_()


@torch.no_grad()
def small_uniform_(weight: Tensor, bias: Tensor | None, bound: float) -> None:
    """Weights and biases ``U(±bound)``, in place (the SAC output layers of the Meta-World+ baselines: 1e-3 for the
    policy, 3e-3 for the critics)."""
    weight.uniform_(-bound, bound)
    if bias is not None:
        bias.uniform_(-bound, bound)


def activation(name: str) -> nn.Module:
    """An activation module by name (``relu``, ``tanh``, ``elu``, ``gelu``, ``silu``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class PerTaskLinear(TaskSpecific):
    """One linear layer per task, stored stacked: ``weight (T, in, out)``, ``bias (T, out)``.

    In the single-task view ``forward(x (B, in)) -> (B, out)`` uses the task's own slice; run through
    :class:`~mtrl.nets.task_batched.TaskBatched` all heads are evaluated in one batched matmul. In the task-batched
    view ``forward(x (T, B, in)) -> (T, B, out)`` is that batched matmul directly.
    Initialised like ``nn.Linear`` independently for each task.
    """

    def __init__(self, num_tasks: int, in_features: int, out_features: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(num_tasks, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num_tasks, out_features).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 3 and self.weight.dim() == 3:  # task-batched view: one fused batched matmul and bias
            return torch.baddbmm(self.bias.unsqueeze(-2), x, self.weight)
        return x @ self.weight + self.bias.unsqueeze(-2)


class MLP(nn.Module):
    """Plain MLP ``in_dim -> hidden_sizes... ``; the output has ``hidden_sizes[-1]`` features, activated.

    ``layer_norm``: ``none``, ``pre`` or ``post`` (a LayerNorm before or after each activation,
    :mod:`mtrl.nets.norm`)."""

    def __init__(self, in_dim: int, hidden_sizes: list[int], act: str = "relu", layer_norm: str = "none") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden_sizes:
            layers += hidden_layer(in_dim, width, activation(act), layer_norm)
            in_dim = width
        self.net = nn.Sequential(*layers)
        self.out_dim = in_dim
        self.layer_norm = layer_norm

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
