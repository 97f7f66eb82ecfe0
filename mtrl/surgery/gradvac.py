"""``gradvac``: gradient vaccine (Wang et al. 2021)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._linalg import normalize_gramian
from mtrl.surgery._random import DeviceRNG
from mtrl.surgery._weighted import GramianWeightedAggregator
from mtrl.surgery.pcgrad import check_reduction


class GradVac(GramianWeightedAggregator):
    """GradVac. Wang, Tsvetkov, Firat, Cao (2021), *Gradient Vaccine: Investigating and Improving Multi-task
    Optimization in Massively Multilingual Models*, ICLR 2021.

    Definition: like PCGrad, every task gradient ``g_i^PC`` (starting at ``g_i``) visits the other tasks ``j`` in a
    random order, but it is pulled towards an adaptive *target* cosine ``φ̂_ij`` rather than towards orthogonality:
    with ``φ_ij = cos(g_i^PC, g_j)``, if ``φ_ij < φ̂_ij``

        ``g_i^PC <- g_i^PC + ||g_i^PC|| (φ̂_ij sqrt(1 - φ_ij²) - φ_ij sqrt(1 - φ̂_ij²)) / (||g_j|| sqrt(1 - φ̂_ij²)) g_j``

    which sets the cosine to exactly ``φ̂_ij``; then ``φ̂_ij <- (1 - β) φ̂_ij + β φ_ij`` (an EMA of the observed
    cosines, kept as state across calls, starting at 0 so that the first call is PCGrad). Combination:
    ``reduction="mean"`` (default, as ``pcgrad``: no adjustment gives ``mean``) or ``"sum"`` (the paper,
    torchjd). The paper applies it per layer group; this is the whole-model version.

    Computed on the Gramian as PCGrad (``g_i^PC = Σ_k C_ik g_k``, ``||g_i^PC||² = (C G Cᵀ)_ii``), ``T`` steps;
    ``task_weights = (1/T) 1ᵀC`` (``1ᵀC`` with ``sum``). ``eps`` is added to denominators (relative to the mean
    squared gradient norm). Orders come from a seeded ``torch.Generator`` on the device; orders and targets are in
    :meth:`state_dict`.

    Args:
        num_tasks: ``T``.
        beta: EMA rate ``β`` of the target cosines, in ``[0, 1]`` (0.5 as in LibMTL and torchjd).
        eps: denominator guard.
        reduction: ``"mean"`` or ``"sum"``.
        seed: seed of the random visiting orders.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "gradvac"

    def __init__(self, num_tasks: int, beta: float = 0.5, eps: float = 1e-8, reduction: str = "mean",
                 seed: int = 0) -> None:
        super().__init__(num_tasks)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"gradvac: beta must be in [0, 1], got {beta}")
        if eps < 0:
            raise ValueError(f"gradvac: eps must be >= 0, got {eps}")
        check_reduction(reduction, self.name)
        self.beta, self.eps, self.reduction = float(beta), float(eps), reduction
        self.rng = DeviceRNG(seed)
        self.targets: Tensor | None = None  # (T, T) φ̂

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        weights = self.adjusted_coefficients(G).sum(dim=0)
        return weights / G.shape[0] if self.reduction == "mean" else weights

    def adjusted_coefficients(self, G: Tensor) -> Tensor:
        """``C`` ``(T, T)`` with ``g_i^PC = Σ_k C_ik g_k``; draws this call's orders and updates the targets."""
        T = G.shape[0]
        Gn, _ = normalize_gramian(G)
        targets = self.targets
        if targets is None:
            targets = torch.zeros(T, T, dtype=G.dtype, device=G.device)
        targets = targets.to(device=G.device, dtype=G.dtype)
        generator = self.rng.generator(G.device)
        orders = torch.rand(T, T, generator=generator, device=G.device).argsort(dim=1)
        tasks = torch.arange(T, device=G.device)
        norms = Gn.diagonal().clamp_min(0).sqrt()
        C = torch.eye(T, dtype=G.dtype, device=G.device)
        beta, eps = self.beta, self.eps
        for k in range(T):
            j = orders[:, k]
            onehot = (j.unsqueeze(1) == tasks.unsqueeze(0)).to(G.dtype)
            other = j != tasks
            dots = (C * Gn.index_select(0, j)).sum(dim=1)  # g_i^PC · g_j
            norm_i = ((C @ Gn) * C).sum(dim=1).clamp_min(0).sqrt()
            norm_j = norms.index_select(0, j)
            cosine = dots / (norm_i * norm_j + eps)
            target = targets.gather(1, j.unsqueeze(1)).squeeze(1)
            sin_cos = (1.0 - cosine**2).clamp_min(0).sqrt()
            sin_target = (1.0 - target**2).clamp_min(0).sqrt()
            adjustment = norm_i * (target * sin_cos - cosine * sin_target) / (norm_j * sin_target + eps)
            adjustment = torch.where(other & (cosine < target), adjustment, 0.0)
            C = C + adjustment.unsqueeze(1) * onehot
            updated = torch.where(other, (1.0 - beta) * target + beta * cosine, target)
            targets = targets + onehot * (updated - target).unsqueeze(1)
        self.targets = targets
        return C

    def state_dict(self) -> dict[str, Any]:
        targets = self.targets.clone() if self.targets is not None else None
        return {"rng": self.rng.state_dict(), "targets": targets}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.load_state_dict(state["rng"])
        self.targets = state["targets"].clone() if state["targets"] is not None else None

    def to(self, device: torch.device) -> GradVac:
        if self.targets is not None:
            self.targets = self.targets.to(device)
        return self

    def __repr__(self) -> str:
        return (f"GradVac(num_tasks={self.num_tasks}, beta={self.beta}, reduction={self.reduction!r}, "
                f"seed={self.rng.seed})")
