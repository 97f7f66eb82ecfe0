"""``fairgrad``: alpha-fair resource allocation among the tasks (Ban & Ji 2024)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import all_converged, cholesky_solve, normalize_gramian, regularize, robust_cholesky
from mtrl.surgery._weighted import GramianWeightedAggregator

#: Step lengths tried by the line search of :func:`fair_weights`, ``2⁰ .. 2⁻²⁹`` (all at once, no host sync).
LINE_SEARCH_STEPS = 30
#: Residual at which an iterate stops moving: ``max_i |G w - w^(-1/α)|_i / (|G| w + w^(-1/α))_i``, relative to
#: the size of the terms (``(G w)_i`` itself can be a cancellation far below them, for a task whose gradient is
#: small and opposed to the others).
RESIDUAL_TOL = 1e-12


def _barrier_change(w: Tensor, log_ratios: Tensor, alpha: float) -> Tensor:
    """``Σ_i ψ(w_i e^(r_i)) - ψ(w_i)`` ``(K,)`` for log-ratios ``r`` ``(K, T)``, where ``ψ(w) = -(w^q - 1)/q``,
    ``q = 1 - 1/α`` (``-log w`` at ``α = 1``), so ``ψ'(w) = -w^(-1/α)``.

    Computed as a change (``expm1``), not as a difference of two values: ``ψ`` reaches 1e20 for small ``w`` at
    ``α = 0.1``, where a difference would lose every digit the line search needs."""
    q = 1.0 - 1.0 / alpha
    if q == 0.0:
        return -log_ratios.sum(-1)
    return -(w.pow(q) * torch.expm1(q * log_ratios)).sum(-1) / q


def fair_weights(G: Tensor, alpha: float, iters: int) -> Tensor:
    """Solve ``G w = w^(-1/α)`` elementwise, ``w > 0``, for a positive definite ``G`` ``(T, T)`` (float64).

    The equation is the stationarity condition of the strictly convex ``φ(w) = ½ wᵀGw + Σ_i ψ(w_i)`` on
    ``w > 0``, ``ψ'(w) = -w^(-1/α)`` (``ψ'' > 0`` for every ``α > 0``; ``α = 1`` is Nash-MTL's log barrier).
    Newton's method on ``φ`` with a line search: all step lengths ``2⁻ᵏ`` (``k < LINE_SEARCH_STEPS``) are
    evaluated at once and the longest one that stays in ``w > 0`` and decreases ``φ`` by at least a quarter of
    the predicted decrease is taken (none: the iterate stays, which only rounding can cause), so the work per
    iteration is fixed. The start is ``1 / sqrt(G_ii)`` rescaled along its ray to the minimiser of ``φ`` on it.
    Iterates whose relative residual is below ``RESIDUAL_TOL`` stop moving; on the CPU the loop ends when that
    happens (:func:`~mtrl.surgery._linalg.all_converged`). ``G`` should have unit mean diagonal (the tolerances
    are absolute on ``φ``'s scale).
    """
    start = G.diagonal().rsqrt()
    # minimiser of φ(t·start) over t > 0: t^(1 + 1/α) = Σ start^(1 - 1/α) / startᵀ G start
    ray = (start.pow(1.0 - 1.0 / alpha).sum() / (start @ G @ start)).pow(alpha / (alpha + 1.0))
    w = start * ray
    steps = 0.5 ** torch.arange(LINE_SEARCH_STEPS, dtype=G.dtype, device=G.device)  # (K,)
    for _ in range(iters):
        pull = w.pow(-1.0 / alpha)  # w^(-1/α)
        grad = G @ w - pull
        done = (grad.abs() / (G.abs() @ w + pull)).amax() <= RESIDUAL_TOL
        if all_converged(done):
            break
        hess = G + torch.diag(pull / (alpha * w))
        direction = -cholesky_solve(robust_cholesky(hess), grad.unsqueeze(-1)).squeeze(-1)
        decrement = -(grad @ direction)  # λ², the predicted decrease is λ²/2
        moves = steps.unsqueeze(-1) * direction  # (K, T)
        feasible = (w + moves > 0).all(-1)
        moves = torch.where(feasible.unsqueeze(-1), moves, 0.0)
        # φ(w + m) - φ(w) = mᵀGw + ½ mᵀGm + Σ ψ(w + m) - ψ(w), exact in relative terms
        change = moves @ (G @ w) + 0.5 * ((moves @ G) * moves).sum(-1) + _barrier_change(w, torch.log1p(moves / w),
                                                                                         alpha)
        accepted = feasible & (change <= -0.25 * steps * decrement)
        step = torch.where(accepted, steps, 0.0).amax()  # the longest accepted step, 0 if none
        w = w + torch.where(done, 0.0, step) * direction
    return w


class FairGrad(GramianWeightedAggregator):
    """FairGrad. Ban, Ji (2024), *Fair Resource Allocation in Multi-Task Learning*, ICML 2024.

    Definition: the direction ``d = Σ_i w_i g_i`` that maximises the α-fair utility of the tasks' first-order
    improvements ``u_i = g_i · d``, ``Σ_i u_i^(1-α) / (1-α)`` (``Σ log u_i`` at ``α = 1``), over a ball; its
    weights ``w > 0`` solve

        ``G w = w^(-1/α)`` elementwise, i.e. ``(g_i · d) w_i^(1/α) = 1`` for every task.

    ``α = 1`` is proportional fairness (Nash-MTL's bargaining solution); larger ``α`` moves towards max-min
    fairness of the improvements, smaller towards their plain sum.
 The authors solve the equation with ``scipy.optimize.least_squares`` on the host;
    here it is solved on the device by a line-searched Newton method on a convex potential
    (:func:`fair_weights`, fixed work off the CPU), in float64, on the Gramian normalised by its mean diagonal
    ``s`` and regularised relative to each task's squared norm (``T · eps`` of the Jacobian's dtype, as
    ``nash_mtl``), so near-singular Gramians give large but finite weights. Undoing the normalisation:
    ``w = w_normalised · s^(-α/(α+1))``, so scaling every gradient by ``c`` scales ``d`` by ``c^((1-α)/(1+α))``.
    ``task_weights = w`` (not normalised, as in the paper: FairGrad sets the step length).

    Args:
        num_tasks: ``T``.
        alpha: fairness ``α`` in ``[0.1, 10]`` (larger is fairer to the tasks with small improvement).
        max_iters: Newton iterations (fixed count off the CPU, where the CPU stops at convergence). Measured to a
            relative residual of 1e-12 on 20 random Gramians per case (T = 3, 10, 50, with conflicts, 100x norm
            spread, rank-deficient ones regularised): 5-30 iterations typically; the worst, α = 10 on a rank-5
            Gramian of 10 tasks whose weights span 1e-33 to 1e6, needs 85.

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "fairgrad"

    def __init__(self, num_tasks: int, alpha: float = 1.0, max_iters: int = 100) -> None:
        super().__init__(num_tasks)
        if not 0.1 <= alpha <= 10.0:
            raise ValueError(f"fairgrad: alpha must be in [0.1, 10], got {alpha}")
        if max_iters < 1:
            raise ValueError(f"fairgrad: max_iters must be >= 1, got {max_iters}")
        self.alpha = float(alpha)
        self.max_iters = int(max_iters)

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        Gn, scale = normalize_gramian(G)
        nonzero = scale > 0
        # a zero Gramian is solved as the identity (any finite answer) and its weights zeroed below
        Gn = torch.where(nonzero, regularize(Gn, input_dtype), torch.eye(G.shape[0], dtype=G.dtype, device=G.device))
        solved = fair_weights(Gn, self.alpha, self.max_iters)
        rescale = scale.clamp_min(torch.finfo(G.dtype).tiny).pow(-self.alpha / (self.alpha + 1.0))
        return torch.where(nonzero, solved * rescale, 0.0)

    def __repr__(self) -> str:
        return f"FairGrad(num_tasks={self.num_tasks}, alpha={self.alpha}, max_iters={self.max_iters})"
