"""``cagrad``: conflict-averse gradient descent (Liu et al. 2021)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtrl.surgery._linalg import all_converged, normalize_gramian, regularize, robust_cholesky
from mtrl.surgery._weighted import GramianWeightedAggregator

RESCALES = (0, 1, 2)
FRACTION_TO_BOUNDARY = 0.99


def default_tol(dtype: torch.dtype) -> float:
    """KKT tolerance of :func:`cagrad_dual` on a normalised Gramian: 1e-11 in float64, 1e-5 in float32 (MPS)."""
    return 1e-11 if dtype == torch.float64 else 1e-5


def cagrad_dual(G: Tensor, c: float, iters: int, tol: float | None = None) -> tuple[Tensor, Tensor]:
    """Solve the CAGrad problem on a (normalised, positive definite) Gramian ``G`` ``(T, T)``.

    With ``b = G 1/T`` (``b_i = g_i·g_0``), ``r = c ||g_0||`` and ``G = L Lᵀ``, CAGrad's primal restricted to the
    span of the task gradients (``d = g_0 + Jᵀα``, ``β = Lᵀα``) is a linear program with one ball constraint:

        ``max_{t, β} t   s.t.   b + Lβ - t 1 >= 0,   r² - ||β||² >= 0``.

    The multipliers ``λ`` of the ``T`` linear constraints sum to one and are the dual weights
    ``w* = argmin_{w ∈ Δ} wᵀb + r sqrt(wᵀGw)``; stationarity in ``β`` gives ``Lᵀλ = 2 λ_0 β``.

    Solved by a primal-dual interior-point method (Mehrotra predictor-corrector) from the strictly feasible
    point ``β = 0``, ``t = min b - r max_i ||g_i|| - 1``: each iteration factors one ``(T+1) x (T+1)`` matrix.
    The ball constraint is curved, so the corrector also carries its second-order term ``-λ_0 ||dβ||²`` and
    the step to the boundary solves the quadratic exactly; the predictor's second-order terms are scaled by
    its own step length squared (robust when that step is short). Iterates stop moving once the KKT
    residuals and the mean complementarity are below ``tol`` (on the CPU the loop ends there,
    :func:`~mtrl.surgery._linalg.all_converged`): 10-18 iterations on the Gramians of an MTSAC update at
    T=10; the tests' hardest cases (norms over six orders of magnitude, rank-deficient, exactly opposed
    tasks, T up to 64) take at most ~60 and agree with Clarabel to ~1e-8 in objective.

    Returns:
        ``(w, radius)``: the dual weights ``(T,)`` on the simplex and ``r = c ||g_0||`` (in the units of ``G``).
        If an iterate became non-finite (only a broken ``G`` can cause it), ``w`` is the uniform ``1/T``.
    """
    T = G.shape[0]
    n = T + 1
    dtype, device = G.dtype, G.device
    tol = default_tol(dtype) if tol is None else tol
    mean_weights = torch.full((T,), 1.0 / T, dtype=dtype, device=device)
    b = G @ mean_weights
    r2 = (c * c) * (mean_weights @ b).clamp_min(0)
    A = torch.cat((torch.full((T, 1), -1.0, dtype=dtype, device=device), robust_cholesky(G)), dim=1)  # d(b+Lβ-t)/dx
    beta_mask = torch.ones(n, dtype=dtype, device=device)
    beta_mask[0].fill_(0.0)  # fill_, not item assignment: no host-to-device copy
    e0 = 1.0 - beta_mask
    two_beta_mask, minus_two_beta_mask = 2.0 * beta_mask, -2.0 * beta_mask
    ball = torch.zeros(2 * n, dtype=dtype, device=device)  # marks the ball constraint in (multipliers, slacks)
    ball[-1].fill_(1.0)
    four_ball = 4.0 * ball
    x = torch.zeros(n, dtype=dtype, device=device)  # (t, β)
    x[0] = b.min() - (r2 * G.diagonal().clamp_min(0).amax()).sqrt() - 1.0
    y = torch.ones(n, dtype=dtype, device=device)  # multipliers (λ, λ_0)
    y[:T].fill_(1.0 / T)
    for _ in range(iters):
        beta_sq = x @ (x * beta_mask)
        slack = torch.cat((torch.addmv(b, A, x), (r2 - beta_sq).unsqueeze(0)))  # (n,) constraint values > 0
        jac = torch.cat((A, (x * minus_two_beta_mask).unsqueeze(0)))  # (n, n) their Jacobian in x
        residual = torch.addmv(e0, jac.T, y)  # -(∇ of the Lagrangian): (1 - Σλ, -(Lᵀλ - 2 λ_0 β))
        complementarity = y * slack
        mu = complementarity.sum() / n
        done = (mu <= tol) & (residual.abs().amax() <= tol)
        if all_converged(done):
            break
        hess = (jac.T * (y / slack)) @ jac
        hess.diagonal().add_(y[-1] * two_beta_mask)  # the ball's curvature, 2 λ_0 on the β block
        system = _NewtonSystem(hess, jac, residual, y, slack)
        dx, d_slack, dy = system.step(-complementarity)  # predictor (affine scaling)
        d_beta_sq = dx @ (dx * beta_mask)
        a = _max_step(y, slack, d_slack, dy, d_beta_sq, four_ball).clamp(max=1.0)
        mu_affine = ((y + a * dy) @ (slack + a * d_slack)) / n
        sigma = (mu_affine / mu).clamp(0.0, 1.0) ** 3
        second_order = d_slack * dy
        second_order[-1] -= y[-1] * d_beta_sq
        dx, d_slack, dy = system.step(sigma * mu - complementarity - (a * a) * second_order)  # corrector
        d_beta_sq = dx @ (dx * beta_mask)
        a = (FRACTION_TO_BOUNDARY * _max_step(y, slack, d_slack, dy, d_beta_sq, four_ball)).clamp(max=1.0)
        move = torch.isfinite(a) & ~done
        x = torch.where(move, x + a * dx, x)
        y = torch.where(move, y + a * dy, y)
    w = y[:T]
    total = w.sum()
    ok = torch.isfinite(total) & (total > 0)
    return torch.where(ok, w / torch.where(ok, total, 1.0), mean_weights), r2.sqrt()


class _NewtonSystem:
    """The reduced KKT system of one interior-point iteration, factored once and solved for two right-hand
    sides (predictor and corrector): ``hess dx = residual + jacᵀ (target / slack)``, ``d_slack = jac dx``,
    ``dy = (target - y ⊙ d_slack) / slack`` for complementarity ``y ⊙ slack`` moving by ``target``."""

    def __init__(self, hess: Tensor, jac: Tensor, residual: Tensor, y: Tensor, slack: Tensor) -> None:
        eye = torch.eye(hess.shape[-1], dtype=hess.dtype, device=hess.device)
        # hess⁻¹ = L⁻ᵀ L⁻¹ from one Cholesky factorisation and one triangular solve (two mat-vecs per step)
        self.factor_inv = torch.linalg.solve_triangular(torch.linalg.cholesky_ex(hess)[0], eye, upper=False)
        self.jac, self.residual, self.y, self.slack = jac, residual, y, slack

    def step(self, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        rhs = torch.addmv(self.residual, self.jac.T, target / self.slack)
        dx = self.factor_inv.T @ (self.factor_inv @ rhs)
        d_slack = self.jac @ dx
        return dx, d_slack, (target - self.y * d_slack) / self.slack


def _max_step(y: Tensor, slack: Tensor, d_slack: Tensor, dy: Tensor, d_beta_sq: Tensor, four_ball: Tensor) -> Tensor:
    """Largest step keeping every multiplier and slack positive. The ball's slack is exactly quadratic in the
    step, ``s + a ds - a² q`` with ``q = ||dβ||²`` (``d_beta_sq``); every entry's bound is
    ``2v / (sqrt(dv² + 4 q v) - dv)`` with ``q = 0`` for the linear ones (``inf`` where ``dv >= 0``); ``hypot``
    keeps ``dv²`` from underflowing."""
    v, dv = torch.cat((y, slack)), torch.cat((dy, d_slack))
    return 2.0 * (v / (torch.hypot(dv, ((d_beta_sq * four_ball) * v).sqrt()) - dv)).amin()


class CAGrad(GramianWeightedAggregator):
    """CAGrad. Liu, Liu, Jin, Stone, Liu (2021), *Conflict-Averse Gradient Descent for Multi-task Learning*,
    NeurIPS 2021 (Algorithm 1).

    Definition: with the average gradient ``g_0 = (1/T) Σ_i g_i``, CAGrad maximises the worst task improvement in
    a ball around it, ``max_d min_i g_i·d  s.t.  ||d - g_0|| <= c ||g_0||``. Its dual is solved over the simplex:

        ``w* = argmin_{w ∈ Δ}  g_wᵀ g_0 + c ||g_0|| ||g_w||``,  ``g_w = Σ_i w_i g_i``,

    and ``d = g_0 + (c ||g_0|| / ||g_w*||) g_w*``, i.e. ``task_weights = 1/T + (c ||g_0|| / ||g_w*||) w*``.
    ``rescale`` divides ``d`` as in the authors' code: ``0`` no rescaling, ``1`` (default) by ``1 + c²``,
    ``2`` by ``1 + c``. ``c = 0`` gives ``mean`` exactly.

    The problem is solved on the Gramian (``g_wᵀ g_0 = wᵀ G 1/T``, ``||g_w||² = wᵀ G w``; ``G`` normalised by its
    mean diagonal and regularised by :func:`~mtrl.surgery._linalg.regularize`) on the device, by a primal-dual
    interior-point method on the primal (a linear program with one ball constraint, :func:`cagrad_dual`) whose
    multipliers are ``w*``; the authors' code uses scipy's SLSQP on the dual, torchjd uses cvxpy/Clarabel. If
    ``g_w* = 0`` (a Pareto-stationary point) the correction is dropped and ``d = g_0``.

    Args:
        num_tasks: ``T``.
        c: radius of the ball around ``g_0``, relative to ``||g_0||`` (``c >= 0``; the paper's ``c``).
        rescale: ``0``, ``1`` or ``2`` (see above).
        max_iters: iterations of the interior-point method (converged iterates stop moving; on the CPU the loop
            ends there).

    Shapes: ``jacobian (T, P) -> direction (P,)``.
    """

    name = "cagrad"

    def __init__(self, num_tasks: int, c: float = 0.4, rescale: int = 1, max_iters: int = 50) -> None:
        super().__init__(num_tasks)
        if c < 0:
            raise ValueError(f"cagrad: c must be >= 0, got {c}")
        if rescale not in RESCALES:
            raise ValueError(f"cagrad: rescale must be one of {RESCALES}, got {rescale!r}")
        if max_iters < 1:
            raise ValueError(f"cagrad: max_iters must be >= 1, got {max_iters}")
        self.c, self.rescale, self.max_iters = float(c), int(rescale), int(max_iters)

    def gramian_weights(self, G: Tensor, input_dtype: torch.dtype) -> Tensor:
        T = G.shape[0]
        if self.c == 0.0:  # no ball: the mean, exactly
            return torch.full((T,), 1.0 / T / self._rescale_factor(), dtype=G.dtype, device=G.device)
        Gn, _ = normalize_gramian(G)
        Gn = regularize(Gn, input_dtype)
        w, radius = cagrad_dual(Gn, self.c, self.max_iters)
        norm_w = (w @ Gn @ w).clamp_min(0).sqrt()
        scale = torch.where(norm_w > 1e-12, radius / torch.where(norm_w > 1e-12, norm_w, 1.0), 0.0)
        return (1.0 / T + scale * w) / self._rescale_factor()

    def _rescale_factor(self) -> float:
        return {0: 1.0, 1: 1.0 + self.c**2, 2: 1.0 + self.c}[self.rescale]

    def __repr__(self) -> str:
        return f"CAGrad(num_tasks={self.num_tasks}, c={self.c}, rescale={self.rescale})"
