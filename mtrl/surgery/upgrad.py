"""``upgrad``: unconflicting projection of gradients (Quinton & Rey 2024, torchjd's UPGrad)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import interior_point, normalize_gramian, quadratic, regularize
from mtrl.surgery._weighted import GramianWeightedAggregator


class UPGrad(GramianWeightedAggregator):
    """UPGrad. Quinton & Rey (2024), *Jacobian Descent for Multi-Objective Optimization* (arXiv:2406.16232), the
    aggregator of torchjd.

    Definition: project every task gradient onto the dual cone of all of them,
    ``π(g) = argmin_{x: g_j·x >= 0 ∀j} ||x - g||``, and average: ``d = (1/T) Σ_i π(g_i)``. Every projection is
    conflict-free, so ``g_j · d >= 0`` for all tasks; without conflicts ``d`` is the mean.

    On the Gramian (the paper's Proposition 1): ``π(Jᵀu) = Jᵀv`` with ``v = argmin_{v >= u} vᵀGv``; with
    ``u = e_i/T`` for each task, ``task_weights = Σ_i v_i``. The ``T`` small QPs are solved together on the device
    by a batched primal-dual interior-point method (``max_iters`` iterations, tolerance ``tol`` on the KKT
    residuals) on the Gramian regularised by :func:`~mtrl.surgery._linalg.regularize` and scaled to unit
    diagonal (variables ``||g_j|| v_j``), which keeps the iteration count flat when gradient norms differ by
    orders of magnitude.
    torchjd solves the same QPs with quadprog on the CPU, on a Gramian regularised by 1e-4 of its trace.

    Args:
        num_tasks: ``T``.
        max_iters: interior-point iterations.
        tol: interior-point tolerance (normalised problem).

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "upgrad"

    def __init__(self, num_tasks: int, max_iters: int = 25, tol: float = 1e-13) -> None:
        super().__init__(num_tasks)
        if max_iters < 1 or tol <= 0:
            raise ValueError(f"upgrad: need max_iters >= 1 and tol > 0, got {max_iters}, {tol}")
        self.max_iters, self.tol = int(max_iters), float(tol)

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        T = G.shape[0]
        Gn, _ = normalize_gramian(G)
        Gn = regularize(Gn, input_dtype)
        # solve in the variables s ⊙ v, s = ||g_i||: a unit-diagonal Gramian, whatever the spread of the norms
        s = torch.where(Gn.diagonal() > 0, Gn.diagonal(), 1.0).sqrt()  # zero gradients: unscaled
        scaled = Gn / (s.unsqueeze(1) * s.unsqueeze(0))
        lower = torch.diag(s) / T  # row i: s ⊙ u with u = e_i / T
        projections = interior_point(quadratic(scaled), lower, lower + 1.0 / T, simplex=False,
                                     iters=self.max_iters, tol=self.tol)
        return (projections / s).sum(dim=0)
