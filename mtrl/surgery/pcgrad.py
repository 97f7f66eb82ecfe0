"""``pcgrad``: projecting conflicting gradients (Yu et al. 2020)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._random import DeviceRNG
from mtrl.surgery._weighted import GramianWeightedAggregator

REDUCTIONS = ("mean", "sum")


def check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


class PCGrad(GramianWeightedAggregator):
    """PCGrad. Yu, Kumar, Gupta, Levine, Hausman, Finn (2020), *Gradient Surgery for Multi-Task Learning*,
    NeurIPS 2020 (Algorithm 1).

    Definition: for every task ``i``, start from ``g_i^PC = g_i`` and visit the other tasks ``j`` in a random order
    (drawn independently for each ``i``); whenever ``g_i^PC · g_j < 0``, project the conflicting component away:
    ``g_i^PC <- g_i^PC - (g_i^PC · g_j / ||g_j||²) g_j``. The direction combines the projected gradients:

    * ``reduction="mean"`` (default): ``d = (1/T) Σ_i g_i^PC``. **We average**, so that PCGrad without conflicts
      equals ``mean`` exactly (as facebookresearch/mtrl does);
    * ``reduction="sum"``: ``d = Σ_i g_i^PC``, the paper's Algorithm 1, torchjd and LibMTL.

    Computed on the Gramian: ``g_i^PC = Σ_k C_ik g_k``, so ``g_i^PC · g_j = (C G)_ij`` and a projection only
    changes ``C_ij``; the ``T`` projections of one position in the visiting orders are done at once, ``T`` steps in
    all. ``task_weights = (1/T) 1ᵀC`` (``1ᵀC`` with ``sum``).

    The visiting orders come from a ``torch.Generator`` on the Jacobian's device seeded with ``seed``; its state
    is in :meth:`state_dict`, so a resumed run projects in the same orders.

    Args:
        num_tasks: ``T``.
        reduction: ``"mean"`` or ``"sum"`` of the projected gradients.
        seed: seed of the random projection orders.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "pcgrad"

    def __init__(self, num_tasks: int, reduction: str = "mean", seed: int = 0) -> None:
        super().__init__(num_tasks)
        check_reduction(reduction, self.name)
        self.reduction = reduction
        self.rng = DeviceRNG(seed)

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        weights = self.projected_coefficients(G).sum(dim=0)
        return weights / G.shape[0] if self.reduction == "mean" else weights

    def projected_coefficients(self, G: Tensor) -> Tensor:
        """``C`` ``(T, T)`` with ``g_i^PC = Σ_k C_ik g_k`` (draws this call's random orders)."""
        T = G.shape[0]
        generator = self.rng.generator(G.device)
        orders = torch.rand(T, T, generator=generator, device=G.device).argsort(dim=1)  # row i: visiting order
        tasks = torch.arange(T, device=G.device)
        squared_norms = G.diagonal()
        C = torch.eye(T, dtype=G.dtype, device=G.device)
        for k in range(T):
            j = orders[:, k]
            dots = (C * G.index_select(0, j)).sum(dim=1)  # g_i^PC · g_j for every i
            norm_j = squared_norms.index_select(0, j)
            project = (j != tasks) & (dots < 0) & (norm_j > 0)
            coefficient = torch.where(project, dots / torch.where(norm_j > 0, norm_j, 1.0), 0.0)
            C = C - coefficient.unsqueeze(1) * (j.unsqueeze(1) == tasks.unsqueeze(0))
        return C

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.load_state_dict(state["rng"])

    def __repr__(self) -> str:
        return f"PCGrad(num_tasks={self.num_tasks}, reduction={self.reduction!r}, seed={self.rng.seed})"
