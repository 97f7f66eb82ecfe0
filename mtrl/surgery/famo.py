"""``famo``: fast adaptive multitask optimization (Liu et al. 2023)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._learnable import LearnableVector
from mtrl.surgery.base import LossWeighting


class FAMO(LossWeighting):
    """FAMO. Liu, Liu, Stone, Liu (2023), *FAMO: Fast Adaptive Multitask Optimization*, NeurIPS 2023
    (Algorithm 1).

    Definition: logits ``ξ`` ``(T,)``, ``z = softmax(ξ)``. The network descends ``Σ_i z_i log(L_i - m_i)``
    normalised so that the weights of the task gradients sum to one:

        ``w_i = c z_i / (L_i - m_i)``,  ``c = (Σ_j z_j / (L_j - m_j))⁻¹``

    (``m`` the ``min_loss`` offsets; ``L - m`` is clamped at 0 and 1e-8 is added, as the authors' ``+ 1e-8``).
    The logits learn from the change of the log-losses between consecutive calls,
    ``δ_i = log(L_i^prev - m_i) - log(L_i - m_i)``: ``ξ`` takes one step of its own Adam optimiser (learning rate
    ``w_lr``, weight decay ``gamma``) along ``∂z/∂ξ ᵀ δ``, so tasks whose log-loss decreased less than the
    ``z``-average gain weight. Each call first updates ``ξ`` from the previous call's losses (none at the first
    call), then returns ``w``. Logits, Adam's moments and the previous log-losses are in :meth:`state_dict`.
    Needs positive losses (``needs_positive_losses = True``); a pure loss weighting.

    Args:
        num_tasks: ``T``.
        gamma: weight decay of the logits (the paper's ``γ``; 0.01 as in the authors' code).
        w_lr: learning rate of the logits' Adam optimiser (the paper's ``β``; 0.025 as in the authors' code).
        min_loss: ``m``, a lower bound of each loss (a float for every task, or one per task).

    Shapes: ``losses (T,) -> weights (T,)``.
    """

    name = "famo"
    needs_jacobian = False
    needs_positive_losses = True

    def __init__(self, num_tasks: int, gamma: float = 0.01, w_lr: float = 0.025,
                 min_loss: float | Sequence[float] = 0.0) -> None:
        super().__init__(num_tasks)
        offsets = [float(min_loss)] * num_tasks if isinstance(min_loss, int | float) else [float(v) for v in min_loss]
        if len(offsets) != num_tasks:
            raise ValueError(f"famo: min_loss must be a float or {num_tasks} floats, got {min_loss!r}")
        self.min_loss = offsets
        self.gamma, self.w_lr = float(gamma), float(w_lr)
        self.logits = LearnableVector(torch.zeros(num_tasks), lr=w_lr, weight_decay=gamma)
        self.prev_log_losses: Tensor | None = None
        self._offsets: Tensor | None = None

    def _log_losses(self, losses: Tensor) -> Tensor:
        offsets = self._offsets
        if offsets is None or offsets.device != losses.device:
            # from Python floats by fill kernels on the device (a host-to-device copy would synchronise)
            offsets = torch.stack([torch.full((), v, dtype=torch.float32, device=losses.device)
                                   for v in self.min_loss])
            self._offsets = offsets
        return ((losses.detach().float() - offsets).clamp_min(0) + 1e-8).log()

    def weights(self, losses: Tensor, jacobian: Tensor | None = None, last_shared: slice | None = None) -> Tensor:
        self.logits.to(losses.device)
        log_losses = self._log_losses(losses)
        if self.prev_log_losses is not None:
            decrease = self.prev_log_losses.to(losses.device) - log_losses
            z = torch.softmax(self.logits.value, dim=0)
            self.logits.step(z * (decrease - (z * decrease).sum()))  # (∂z/∂ξ)ᵀ δ
        # a non-finite loss leaves the logits (LearnableVector.step skips them) and the remembered losses as
        # they were, so the weights recover with the next finite losses
        prev = self.prev_log_losses
        self.prev_log_losses = log_losses if prev is None else torch.where(torch.isfinite(log_losses), log_losses,
                                                                            prev.to(losses.device))
        z = torch.softmax(self.logits.value, dim=0)
        scaled = z / log_losses.exp()
        return (scaled / scaled.sum()).to(jacobian.dtype if jacobian is not None else losses.dtype)

    def state_dict(self) -> dict[str, Any]:
        prev = self.prev_log_losses.clone() if self.prev_log_losses is not None else None
        return {"logits": self.logits.state_dict(), "prev_log_losses": prev}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.logits.load_state_dict(state["logits"])
        prev = state["prev_log_losses"]
        self.prev_log_losses = prev.clone() if prev is not None else None

    def to(self, device: torch.device) -> FAMO:
        self.logits.to(device)
        if self.prev_log_losses is not None:
            self.prev_log_losses = self.prev_log_losses.to(device)
        return self

    def __repr__(self) -> str:
        return f"FAMO(num_tasks={self.num_tasks}, gamma={self.gamma}, w_lr={self.w_lr})"
