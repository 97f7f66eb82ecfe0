"""Learned task embeddings: the task-specific part of task-conditioned networks."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtrl.nets.task_batched import TaskSpecific


class TaskEmbedding(TaskSpecific):
    """One learned vector per task, stored stacked: ``weight (T, dim)``.

    In the single-task view ``forward() -> (dim,)`` is the task's own row (a lookup of the one-hot id, with no
    matmul). Initialised ``N(0, std²)`` like ``nn.Embedding``; task-specific, so never part of gradient surgery.
    """

    def __init__(self, num_tasks: int, dim: int, std: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_tasks, dim) * std)

    def forward(self) -> Tensor:
        return self.weight
