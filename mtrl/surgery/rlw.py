"""``rlw``: random loss weighting (Lin et al. 2021)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._random import DeviceRNG
from mtrl.surgery.base import LossWeighting


class RandomLossWeighting(LossWeighting):
    """Random Loss Weighting. Lin, Ye, Xu, Shi, Zhang (2021), *Reasonable Effectiveness of Random Weighting: A
    Litmus Test for Multi-Task Learning* (arXiv:2111.10603; TMLR 2022).

    Definition: fresh weights at every call, ``w = softmax(λ̃)`` with ``λ̃ ~ N(0, I_T)`` (the paper's default
    normal distribution): positive, summing to 1 (the scale of ``mean``). Drawn on the device from a
    ``torch.Generator`` seeded with ``seed`` (state in :meth:`state_dict`). A pure loss weighting.

    Args:
        num_tasks: ``T``.
        seed: seed of the draws.

    Shapes: ``losses (T,) -> weights (T,)``.
    """

    name = "rlw"
    needs_jacobian = False

    def __init__(self, num_tasks: int, seed: int = 0) -> None:
        super().__init__(num_tasks)
        self.rng = DeviceRNG(seed)

    def weights(self, losses: Tensor, jacobian: Tensor | None = None, last_shared: slice | None = None) -> Tensor:
        logits = torch.randn(losses.shape[0], generator=self.rng.generator(losses.device), device=losses.device,
                             dtype=losses.dtype if losses.is_floating_point() else torch.float32)
        return torch.softmax(logits, dim=0).to(jacobian.dtype if jacobian is not None else losses.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.load_state_dict(state["rng"])

    def __repr__(self) -> str:
        return f"RandomLossWeighting(num_tasks={self.num_tasks}, seed={self.rng.seed})"
