"""``uw``: uncertainty weighting (Kendall et al. 2018)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._learnable import LearnableVector
from mtrl.surgery.base import LossWeighting


class UncertaintyWeighting(LossWeighting):
    """Uncertainty weighting. Kendall, Gal, Cipolla (2018), *Multi-Task Learning Using Uncertainty to Weigh
    Losses for Scene Geometry and Semantics*, CVPR 2018.

    Definition: learnable log-variances ``s_i = log σ_i²`` and the joint objective ``Σ_i exp(-s_i) L_i + s_i``
    (the paper's Eq. 7 in the form most implementations use). The network sees the loss weights
    ``w_i = exp(-s_i)``; ``s`` descends the same objective, ``∂/∂s_i = 1 - exp(-s_i) L_i``, so a task with a large
    loss gets a larger ``s_i`` and a smaller weight (the fixed point is ``w_i = 1 / L_i``).

    Each call returns ``exp(-s)`` for the current ``s`` (``s = 0``, weights 1, at the start) and then takes one
    step of ``s``'s own Adam optimiser (learning rate ``lr``) with the given losses. ``s`` and Adam's moments are
    in :meth:`state_dict`. A pure loss weighting: ``needs_jacobian = False``.

    Args:
        num_tasks: ``T``.
        lr: learning rate of the log-variances' Adam optimiser.

    Shapes: ``losses (T,) -> weights (T,)``.
    """

    name = "uw"
    needs_jacobian = False

    def __init__(self, num_tasks: int, lr: float = 1e-3) -> None:
        super().__init__(num_tasks)
        self.log_vars = LearnableVector(torch.zeros(num_tasks), lr=lr)

    def weights(self, losses: Tensor, jacobian: Tensor | None = None, last_shared: slice | None = None) -> Tensor:
        self.log_vars.to(losses.device)
        s = self.log_vars.value
        precision = torch.exp(-s)
        self.log_vars.step(1.0 - precision * losses.detach().float())
        return precision.to(jacobian.dtype if jacobian is not None else losses.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {"log_vars": self.log_vars.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.log_vars.load_state_dict(state["log_vars"])

    def to(self, device: torch.device) -> UncertaintyWeighting:
        self.log_vars.to(device)
        return self

    def __repr__(self) -> str:
        return f"UncertaintyWeighting(num_tasks={self.num_tasks}, lr={self.log_vars.lr})"
