"""``mgda``: the multiple-gradient descent algorithm (Désidéri 2012) as used for MTL by Sener & Koltun (2018)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import all_converged, interior_point, normalize_gramian, quadratic, regularize
from mtrl.surgery._weighted import GramianWeightedAggregator

SOLVERS = {"interior_point": (25, 1e-13), "frank_wolfe": (250, 1e-5)}  # default (max_iters, tol)


def frank_wolfe_min_norm(G: Tensor, max_iters: int, tol: float) -> Tensor:
    """Frank-Wolfe for ``min_{w ∈ Δ} wᵀGw`` (Sener & Koltun 2018, Algorithm 2) with exact line search.

    Each iteration moves towards the vertex ``e_t``, ``t = argmin (G w)_t``, by the step ``γ`` minimising
    ``||(1-γ) g_w + γ g_t||``; once a step is ``< tol`` (applied, as in the paper's loop) the iterate is frozen.
    """
    T = G.shape[0]
    w = torch.full((T,), 1.0 / T, dtype=G.dtype, device=G.device)
    tasks = torch.arange(T, device=G.device)
    done = torch.zeros((), dtype=torch.bool, device=G.device)
    for _ in range(max_iters):
        if all_converged(done):  # frozen from here on
            break
        Gw = G @ w
        t = Gw.argmin()
        vertex = (tasks == t).to(G.dtype)
        w_dot_t = Gw.gather(0, t.unsqueeze(0)).squeeze(0)  # g_w · g_t
        w_sq = w @ Gw  # ||g_w||²
        t_sq = G.diagonal().gather(0, t.unsqueeze(0)).squeeze(0)  # ||g_t||²
        denominator = w_sq + t_sq - 2 * w_dot_t
        interior = (w_sq - w_dot_t) / torch.where(denominator > 0, denominator, 1.0)
        gamma = torch.where(t_sq <= w_dot_t, 1.0, torch.where(w_sq <= w_dot_t, 0.0, interior))
        gamma = torch.where(done, 0.0, gamma)
        w = (1 - gamma) * w + gamma * vertex
        done = done | (gamma < tol)
    return w


class MGDA(GramianWeightedAggregator):
    """MGDA. Sener & Koltun (2018), *Multi-Task Learning as Multi-Objective Optimization*, NeurIPS 2018
    (after Désidéri 2012, *Multiple-gradient descent algorithm (MGDA) for multiobjective optimization*).

    Definition: the min-norm point of the convex hull of the task gradients,

        ``d = Σ_i w*_i g_i``,  ``w* = argmin_{w ∈ Δ} ||Σ_i w_i g_i||²`` (``Δ`` the probability simplex),

    which is a common descent direction (``g_i · d >= ||d||² >= 0`` for every task) or zero at a Pareto-stationary
    point. ``task_weights = w*``. Solved on the Gramian (``||g_w||² = wᵀGw``, normalised by its mean diagonal) on
    the device with a fixed iteration count:

    * ``solver="interior_point"`` (default): a primal-dual interior-point method (Mehrotra predictor-corrector),
      25 iterations, tolerance 1e-13 on the KKT residuals; the Gramian is regularised (each squared norm raised
      by ``T · eps`` of the Jacobian's dtype) so that the solution is unique. Accurate to solver precision.
    * ``solver="frank_wolfe"``: the paper's Algorithm 2 (Frank-Wolfe with exact line search), 250 iterations,
      stopping when a step is below 1e-5 (the authors' code's defaults). Cheaper per iteration, slower to converge.

    Args:
        num_tasks: ``T``.
        solver: ``"interior_point"`` or ``"frank_wolfe"``.
        max_iters: iterations (default: 25 for the interior point, 250 for Frank-Wolfe).
        tol: tolerance (default: 1e-13 on the KKT residuals / 1e-5 on the Frank-Wolfe step).

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "mgda"

    def __init__(self, num_tasks: int, solver: str = "interior_point", max_iters: int | None = None,
                 tol: float | None = None) -> None:
        super().__init__(num_tasks)
        if solver not in SOLVERS:
            raise ValueError(f"mgda: solver must be one of {tuple(SOLVERS)}, got {solver!r}")
        default_iters, default_tol = SOLVERS[solver]
        self.solver = solver
        self.max_iters = int(max_iters) if max_iters is not None else default_iters
        self.tol = float(tol) if tol is not None else default_tol
        if self.max_iters < 1 or self.tol <= 0:
            raise ValueError(f"mgda: need max_iters >= 1 and tol > 0, got {self.max_iters}, {self.tol}")

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        T = G.shape[0]
        Gn, _ = normalize_gramian(G)
        if self.solver == "frank_wolfe":
            return frank_wolfe_min_norm(Gn, self.max_iters, self.tol)
        Gn = regularize(Gn, input_dtype)
        start = torch.full((1, T), 1.0 / T, dtype=G.dtype, device=G.device)
        return interior_point(quadratic(Gn), torch.zeros_like(start), start, simplex=True, iters=self.max_iters,
                              tol=self.tol).squeeze(0)

    def __repr__(self) -> str:
        return f"MGDA(num_tasks={self.num_tasks}, solver={self.solver!r})"
