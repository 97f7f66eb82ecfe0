"""Task-conditioned networks: encoder (shared) + output head (per task or shared).

``TaskConditionedNet`` is what actors and critics are made of. Its forward is in the single-task view:
``forward(x (B, in_dim), task_onehot (T,)) -> (B, out_dim)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from mtrl.nets.layers import MLP, PerTaskLinear


@dataclass
class NetConfig:
    """Architecture of one network (actor or critic)."""

    hidden_sizes: list[int] = field(default_factory=lambda: [400, 400, 400])  # widths of the shared trunk
    activation: str = "relu"  # relu | tanh | elu | gelu | silu
    heads: str = "per_task"  # per_task: one output layer per task; shared: one output layer for all tasks
    onehot_input: bool = False  # concatenate the task's one-hot id to the network input


HEAD_KINDS = ("per_task", "shared")


class TaskConditionedNet(nn.Module):
    """Shared encoder followed by a task-conditioned output head.

    Args:
        in_dim: input features (observation, or observation+action for a critic).
        out_dim: output features.
        num_tasks: ``T``.
        cfg: architecture.
    """

    def __init__(self, in_dim: int, out_dim: int, num_tasks: int, cfg: NetConfig) -> None:
        super().__init__()
        if cfg.heads not in HEAD_KINDS:
            raise ValueError(f"unknown heads {cfg.heads!r}; valid: {', '.join(HEAD_KINDS)}")
        if not cfg.hidden_sizes:
            raise ValueError("hidden_sizes must name at least one layer")
        self.onehot_input = cfg.onehot_input
        self.encoder = MLP(in_dim + (num_tasks if cfg.onehot_input else 0), list(cfg.hidden_sizes), cfg.activation)
        width = self.encoder.out_dim
        self.head: nn.Module = (
            PerTaskLinear(num_tasks, width, out_dim) if cfg.heads == "per_task" else nn.Linear(width, out_dim)
        )

    def forward(self, x: Tensor, task_onehot: Tensor) -> Tensor:
        """``x (B, in_dim)``, ``task_onehot (T,)`` -> ``(B, out_dim)`` (single-task view)."""
        if self.onehot_input:
            x = torch.cat([x, task_onehot.expand(x.shape[0], -1)], dim=-1)
        return self.head(self.encoder(x))
