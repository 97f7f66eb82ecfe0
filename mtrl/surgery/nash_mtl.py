"""``nash_mtl``: multi-task learning as a bargaining game (Navon et al. 2022)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mtrl.surgery._linalg import cholesky_solve, normalize_gramian, regularize, robust_cholesky
from mtrl.surgery._weighted import GramianWeightedAggregator


def nash_bargaining_weights(G: Tensor, start: Tensor, iters: int) -> Tensor:
    """Solve ``w ⊙ (G w) = 1``, ``w > 0`` by damped Newton on ``φ(w) = ½ wᵀGw - Σ_i log w_i``.

    ``∇φ = G w - 1/w`` vanishes exactly at the bargaining solution, and ``φ`` (a convex quadratic plus a log
    barrier) is self-concordant, so Newton steps damped by ``1 / (1 + λ)`` (``λ`` the Newton decrement) stay
    feasible and converge from any positive start, quadratically near the solution. ``start`` ``(T,)`` is first
    rescaled along its ray to the best multiple (``t² startᵀG start = T``). ``G`` must be positive definite.
    """
    w = start * (start.shape[0] / (start @ G @ start)).sqrt()
    for _ in range(iters):
        grad = G @ w - 1.0 / w
        hess = G + torch.diag(1.0 / w**2)
        L = robust_cholesky(hess)
        step = -cholesky_solve(L, grad.unsqueeze(-1)).squeeze(-1)
        decrement = (-(grad @ step)).clamp_min(0).sqrt()
        w = w + step / (1.0 + decrement)
    return w


class NashMTL(GramianWeightedAggregator):
    """Nash-MTL. Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik, Fetaya (2022), *Multi-Task Learning as a
    Bargaining Game*, ICML 2022.

    Definition: the Nash bargaining solution ``d = Σ_i w_i g_i`` with weights ``w > 0`` solving

        ``(G w) ⊙ w = 1``, i.e. ``w_i (G w)_i = g_i · d · w_i = 1`` for every task,

    so that ``||d||² = wᵀGw = T``. The paper approximates it by a sequence of convex programs (cvxpy); here it is
    solved exactly in torch on the device: it is the stationary point of the strictly convex
    ``½ wᵀGw - Σ log w_i``, found by ``optim_niter`` damped Newton steps (see :func:`nash_bargaining_weights`),
    on the Gramian normalised by its mean diagonal ``s`` (then ``w = w_normalised / sqrt(s)``). The previous
    weights warm-start the next solve and are reused as they are between solves (as in the authors' code). The
    bargaining solution needs linearly independent task gradients; each ``G_ii`` is raised by ``T · eps`` of the
    Jacobian's dtype (relative), so degenerate Gramians give large but finite weights. ``task_weights = w`` (not
    normalised: Nash-MTL sets the step length).

    Args:
        num_tasks: ``T``.
        update_weights_every: solve every ``k`` calls and reuse the last weights in between (the paper's speed-up).
        max_norm: if set, scale ``w`` down so that ``||d|| <= max_norm`` (the authors' code uses 1.0; ``None``
            disables it, leaving clipping to the optimiser).
        optim_niter: Newton iterations per solve (fixed count; 20 reach machine precision on every Gramian we
            tried, condition numbers up to 1e12, and a warm start needs fewer).

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "nash_mtl"

    def __init__(self, num_tasks: int, update_weights_every: int = 1, max_norm: float | None = None,
                 optim_niter: int = 20) -> None:
        super().__init__(num_tasks)
        if update_weights_every < 1:
            raise ValueError(f"nash_mtl: update_weights_every must be >= 1, got {update_weights_every}")
        if max_norm is not None and max_norm <= 0:
            raise ValueError(f"nash_mtl: max_norm must be > 0 or None, got {max_norm}")
        if optim_niter < 1:
            raise ValueError(f"nash_mtl: optim_niter must be >= 1, got {optim_niter}")
        self.update_weights_every = int(update_weights_every)
        self.max_norm = float(max_norm) if max_norm is not None else None
        self.optim_niter = int(optim_niter)
        self.step = 0
        self.prev_weights: Tensor | None = None  # (T,) weights of the last solve (reused, and warm start)

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        prev = self.prev_weights
        if prev is not None:
            prev = prev.to(device=G.device, dtype=G.dtype)
        if prev is None or self.step % self.update_weights_every == 0:
            Gn, scale = normalize_gramian(G)
            Gn = regularize(Gn, input_dtype)
            # any positive start works (it is rescaled along its ray): the last weights, else 1 / ||g_i||
            start = prev if prev is not None else Gn.diagonal().rsqrt()
            solved = nash_bargaining_weights(Gn, start, self.optim_niter)
            prev = torch.where(scale > 0, solved * scale.clamp_min(torch.finfo(G.dtype).tiny).rsqrt(), 0.0)
        self.prev_weights = prev
        self.step += 1
        weights = prev
        if self.max_norm is not None:
            norm = (weights @ G @ weights).clamp_min(0).sqrt()
            weights = weights * torch.where(norm > self.max_norm, self.max_norm / norm, 1.0)
        return weights

    def state_dict(self) -> dict[str, Any]:
        prev = self.prev_weights.clone() if self.prev_weights is not None else None
        return {"step": self.step, "prev_weights": prev}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        prev = state["prev_weights"]
        self.prev_weights = prev.clone() if prev is not None else None

    def to(self, device: torch.device) -> NashMTL:
        if self.prev_weights is not None:
            self.prev_weights = self.prev_weights.to(device)
        return self

    def __repr__(self) -> str:
        return (f"NashMTL(num_tasks={self.num_tasks}, update_weights_every={self.update_weights_every}, "
                f"max_norm={self.max_norm}, optim_niter={self.optim_niter})")
