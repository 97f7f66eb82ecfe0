"""``gradnorm``: gradient normalisation (Chen et al. 2018)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._learnable import LearnableVector
from mtrl.surgery.base import LossWeighting


class GradNorm(LossWeighting):
    """GradNorm. Chen, Badrinarayanan, Lee, Rabinovich (2018), *GradNorm: Gradient Normalization for Adaptive
    Loss Balancing in Deep Multitask Networks*, ICML 2018 (Algorithm 1).

    Definition: learnable loss weights ``w`` (initially 1). With ``G_i = w_i ||∇_W L_i||`` the gradient norms at
    the last shared layer ``W`` (the columns ``last_shared`` of the Jacobian; the whole Jacobian if ``None``),
    ``Ḡ`` their mean, the inverse training rates ``r_i = L̃_i / mean_j L̃_j`` with ``L̃_i = L_i(t) / L_i(0)``:

        ``L_grad = Σ_i |G_i - Ḡ r_i^α|``,  the target ``Ḡ r_i^α`` held constant,

    so ``∂L_grad/∂w_i = sign(G_i - Ḡ r_i^α) ||∇_W L_i||``. Each call returns the current ``w`` (the weights of this
    step's loss), then takes one step of ``w``'s own Adam optimiser (learning rate ``lr``) on ``L_grad`` and
    renormalises ``w`` to sum to ``T``. Tasks whose gradient norm is above target lose weight; ``alpha`` (the
    paper's asymmetry ``α``) favours tasks that train slower. ``L(0)`` is the first losses seen; updated weights
    are clamped at 0 before the renormalisation. Weights, Adam's
    moments and ``L(0)`` are in :meth:`state_dict`. Needs the Jacobian and positive losses (loss ratios are raised
    to ``α``; negative ratios are clamped to 0).

    Args:
        num_tasks: ``T``.
        alpha: the asymmetry ``α`` (the paper uses 0 to 3; 1.5 is common).
        lr: learning rate of the weights' Adam optimiser.

    Shapes: ``losses (T,), jacobian (T, P) -> weights (T,)``.
    """

    name = "gradnorm"
    needs_jacobian = True
    needs_positive_losses = True

    def __init__(self, num_tasks: int, alpha: float = 1.5, lr: float = 0.025) -> None:
        super().__init__(num_tasks)
        if alpha < 0:
            raise ValueError(f"gradnorm: alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        self.loss_weights_param = LearnableVector(torch.ones(num_tasks), lr=lr)
        self.initial_losses: Tensor | None = None

    def weights(self, losses: Tensor, jacobian: Tensor | None = None, last_shared: slice | None = None) -> Tensor:
        if jacobian is None:
            raise ValueError("gradnorm needs the per-task Jacobian (the last shared layer's gradient norms)")
        T = losses.shape[0]
        self.loss_weights_param.to(losses.device)
        losses = losses.detach().float()
        if self.initial_losses is None:
            self.initial_losses = losses.clone()
        initial = self.initial_losses.to(losses.device)
        w = self.loss_weights_param.value.clone()  # this step's weights (the update below is in place)
        columns = jacobian[:, last_shared] if last_shared is not None else jacobian
        grad_norms = torch.linalg.vector_norm(columns.detach().float(), dim=1)  # ||∇_W L_i||
        weighted_norms = w * grad_norms  # G_i
        ratios = torch.where(initial != 0, losses / torch.where(initial != 0, initial, 1.0), 1.0)
        mean_ratio = ratios.mean()
        relative = torch.where(mean_ratio != 0, ratios / torch.where(mean_ratio != 0, mean_ratio, 1.0), 1.0)
        target = weighted_norms.mean() * relative.clamp_min(0) ** self.alpha
        self.loss_weights_param.step(torch.sign(weighted_norms - target) * grad_norms)
        updated = self.loss_weights_param.value.clamp_min(0)
        total = updated.sum()
        self.loss_weights_param.assign(torch.where(total > 0, T * updated / torch.where(total > 0, total, 1.0), 1.0))
        return w.to(jacobian.dtype)

    def state_dict(self) -> dict[str, Any]:
        initial = self.initial_losses.clone() if self.initial_losses is not None else None
        return {"weights": self.loss_weights_param.state_dict(), "initial_losses": initial}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss_weights_param.load_state_dict(state["weights"])
        initial = state["initial_losses"]
        self.initial_losses = initial.clone() if initial is not None else None

    def to(self, device: torch.device) -> GradNorm:
        self.loss_weights_param.to(device)
        if self.initial_losses is not None:
            self.initial_losses = self.initial_losses.to(device)
        return self

    def __repr__(self) -> str:
        return f"GradNorm(num_tasks={self.num_tasks}, alpha={self.alpha}, lr={self.loss_weights_param.lr})"
