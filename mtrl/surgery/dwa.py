"""``dwa``: dynamic weight average (Liu et al. 2019)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery.base import LossWeighting


class DynamicWeightAverage(LossWeighting):
    """Dynamic Weight Average. Liu, Johns, Davison (2019), *End-to-End Multi-Task Learning with Attention*,
    CVPR 2019, Eq. 7.

    Definition: with the rate of descent of each loss over the two previous steps,
    ``r_i(t-1) = L_i(t-1) / L_i(t-2)``,

        ``w_i(t) = T exp(r_i(t-1) / temperature) / Σ_j exp(r_j(t-1) / temperature)``,

    so the weights sum to ``T`` and a task whose loss fell less gets more weight. ``w = 1`` for the first two calls
    (no history yet). The paper averages losses over an epoch; here ``t`` counts calls (updates). The last two
    losses are kept as state (:meth:`state_dict`). A zero previous loss gives ratio 1. Meant for positive losses
    (ratios of losses that change sign are meaningless, though finite). A pure loss weighting.

    Args:
        num_tasks: ``T``.
        temperature: softmax temperature (the paper uses 2).

    Shapes: ``losses (T,) -> weights (T,)``.
    """

    name = "dwa"
    needs_jacobian = False

    def __init__(self, num_tasks: int, temperature: float = 2.0) -> None:
        super().__init__(num_tasks)
        if temperature <= 0:
            raise ValueError(f"dwa: temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)
        self.history: list[Tensor] = []  # [L(t-2), L(t-1)], at most two

    def weights(self, losses: Tensor, jacobian: Tensor | None = None, last_shared: slice | None = None) -> Tensor:
        losses = losses.detach()
        if len(self.history) < 2:
            weights = torch.ones_like(losses)
        else:
            before, last = (h.to(device=losses.device, dtype=losses.dtype) for h in self.history)
            rate = torch.where(before != 0, last / torch.where(before != 0, before, 1.0), 1.0)
            weights = losses.shape[0] * torch.softmax(rate / self.temperature, dim=0)
        # a non-finite loss is not remembered (the task keeps its last finite loss): one bad step must not
        # turn the weights NaN for the next two
        fallback = self.history[-1].to(device=losses.device, dtype=losses.dtype) if self.history else 0.0
        self.history = [*self.history, torch.where(torch.isfinite(losses), losses, fallback)][-2:]
        return weights.to(jacobian.dtype if jacobian is not None else losses.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {"history": [h.clone() for h in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = [h.clone() for h in state["history"]]

    def to(self, device: torch.device) -> DynamicWeightAverage:
        self.history = [h.to(device) for h in self.history]
        return self

    def __repr__(self) -> str:
        return f"DynamicWeightAverage(num_tasks={self.num_tasks}, temperature={self.temperature})"
