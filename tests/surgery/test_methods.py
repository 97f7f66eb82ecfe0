"""Each method does what its paper defines, checked against hand formulas and optimality conditions."""

from __future__ import annotations

import math

import pytest
import torch

from mtrl.surgery._linalg import gramian
from tests.surgery.test_helpers import (
    aligned_jacobian,
    assert_close,
    assert_non_conflicting,
    build,
    conflicting_jacobian,
    one_thread,  # noqa: F401 - autouse fixture
    positive_losses,
    run,
)

TS = [2, 3, 10]


# ------------------------------------------------------------------------------------------ mean and sum


@pytest.mark.parametrize("T", TS)
def test_mean_is_the_average_and_sum_the_sum(T):
    J = conflicting_jacobian(T)
    mean, total = run(build("mean", T), J), run(build("sum", T), J)
    assert_close(mean.direction, J.mean(0), 1e-14)
    assert torch.equal(mean.task_weights, torch.full((T,), 1 / T, dtype=J.dtype))
    assert_close(total.direction, J.sum(0), 1e-14)
    assert torch.equal(total.task_weights, torch.ones(T, dtype=J.dtype))
    assert torch.equal(build("mean", T).loss_weights(torch.ones(T)), torch.full((T,), 1 / T))
    assert torch.equal(build("sum", T).loss_weights(torch.ones(T)), torch.ones(T))


# ----------------------------------------------------------------------------------------------- PCGrad


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_pcgrad_without_conflict_is_the_mean_or_the_sum(T, reduction):
    J = aligned_jacobian(T)
    out = run(build("pcgrad", T, reduction=reduction), J)
    scale = 1 / T if reduction == "mean" else 1.0
    assert torch.equal(out.task_weights, torch.full((T,), scale, dtype=J.dtype))
    assert_close(out.direction, scale * J.sum(0), 1e-14)


def test_pcgrad_two_conflicting_tasks_remove_each_others_component():
    J = conflicting_jacobian(2)
    g1, g2 = J
    assert g1 @ g2 < 0
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert_close(run(build("pcgrad", 2), J).direction, (p1 + p2) / 2, 1e-13)
    assert_close(run(build("pcgrad", 2, reduction="sum"), J).direction, p1 + p2, 1e-13)
    assert abs(p1 @ g2) < 1e-10 and abs(p2 @ g1) < 1e-10


def reference_pcgrad(J: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """PCGrad in parameter space, visiting ``orders[i]`` for task ``i`` (Algorithm 1 of the paper)."""
    projected = J.clone()
    for i in range(J.shape[0]):
        for j in orders[i].tolist():
            dot = projected[i] @ J[j]
            if j != i and dot < 0:
                projected[i] = projected[i] - dot / (J[j] @ J[j]) * J[j]
    return projected


@pytest.mark.parametrize("T", [3, 10])
def test_pcgrad_gramian_form_equals_projections_in_parameter_space(T):
    J = conflicting_jacobian(T, seed=T)
    method = build("pcgrad", T, seed=5)
    coefficients = method.projected_coefficients(gramian(J))
    # the first draw of seed 5 on the CPU: the generator seeded with 5 * 1_000_003
    generator = torch.Generator().manual_seed(5 * 1_000_003)
    orders = torch.rand(T, T, generator=generator).argsort(dim=1)
    assert_close(coefficients @ J, reference_pcgrad(J, orders), 1e-12)


# ----------------------------------------------------------------------------------------------- CAGrad


@pytest.mark.parametrize("T", TS)
def test_cagrad_with_c_zero_is_the_mean(T):
    J = conflicting_jacobian(T)
    out = run(build("cagrad", T, c=0.0), J)
    assert torch.equal(out.task_weights, torch.full((T,), 1 / T, dtype=J.dtype))
    assert_close(out.direction, J.mean(0), 1e-14)


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("c", [0.4, 0.9])
def test_cagrad_maximises_the_worst_improvement_in_the_ball(T, c):
    """The primal: ``d`` maximises ``min_i g_i·d`` over ``||d - g_0|| <= c ||g_0||`` (rescale=0)."""
    J = conflicting_jacobian(T, seed=T)
    d = run(build("cagrad", T, c=c, rescale=0), J).direction
    g0 = J.mean(0)
    radius = c * g0.norm()
    assert (d - g0).norm() <= radius * (1 + 1e-9)
    worst = (J @ d).min()
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):  # no point of the ball does better
        u = torch.randn(J.shape[1], generator=generator, dtype=J.dtype)
        candidate = g0 + radius * torch.rand((), generator=generator, dtype=J.dtype) ** 0.1 * u / u.norm()
        assert (J @ candidate).min() <= worst + 1e-9 * J.norm() * g0.norm()


@pytest.mark.parametrize("rescale,factor", [(0, 1.0), (1, 1 / (1 + 0.4**2)), (2, 1 / 1.4)])
def test_cagrad_rescale_options(rescale, factor):
    J = conflicting_jacobian(3)
    base = run(build("cagrad", 3, rescale=0), J).direction
    assert_close(run(build("cagrad", 3, rescale=rescale), J).direction, factor * base, 1e-13)


def hard_cagrad_jacobians():
    """Cases that broke earlier solvers: norms over six orders of magnitude, rank-deficient, a duplicated task,
    a zero gradient, two exactly opposed tasks (a Pareto-stationary hull), no conflict at all."""
    for T in (2, 3, 10, 32):
        for seed in range(3):
            g = torch.Generator().manual_seed(1000 + seed)
            J = conflicting_jacobian(T, P=80, seed=100 + seed)
            norms = torch.logspace(-3, 3, T, dtype=J.dtype)[torch.randperm(T, generator=g)]
            yield f"T{T}-{seed}-spread", J * norms[:, None]
            yield f"T{T}-{seed}-rank", conflicting_jacobian(T, P=max(T // 4, 1), seed=seed)
            duplicate, zero, opposed = J.clone(), J.clone(), J.clone()
            duplicate[-1], zero[-1], opposed[1] = J[0], 0.0, -J[0]
            yield f"T{T}-{seed}-duplicate", duplicate
            yield f"T{T}-{seed}-zero", zero
            yield f"T{T}-{seed}-opposed", opposed
            yield f"T{T}-{seed}-aligned", aligned_jacobian(T, P=80, seed=seed)


@pytest.mark.parametrize("c", [0.1, 0.4, 2.0])
def test_cagrad_solver_meets_the_optimality_conditions_on_hard_cases(c):
    """KKT conditions of ``min_{w ∈ Δ} F(w) = wᵀb + r sqrt(wᵀGw)`` at the solver's ``w`` (on the normalised,
    regularised Gramian it solves): every ``∂F/∂w_i >= wᵀ∇F``, with equality on the support. Near ``g_w = 0``
    (opposed tasks, a zero gradient, a large ``c``: ``F`` has a kink there and ``∇F`` varies like
    ``r / ||g_w||``) these conditions say little; the objective check against Clarabel below covers it."""
    from mtrl.surgery._linalg import normalize_gramian, regularize
    from mtrl.surgery.cagrad import cagrad_dual

    for name, J in hard_cagrad_jacobians():
        G = regularize(normalize_gramian(gramian(J))[0], J.dtype)
        T = G.shape[0]
        w, radius = cagrad_dual(G, c, iters=100)
        assert torch.isfinite(w).all() and (w >= 0).all() and abs(float(w.sum()) - 1) < 1e-12, name
        b = G @ torch.full((T,), 1 / T, dtype=G.dtype)
        norm = (w @ G @ w).sqrt()
        if norm < 1e-3:
            continue
        gradient = b + radius * (G @ w) / norm
        value = w @ gradient
        assert (gradient >= value - 1e-7).all(), name
        assert (gradient[w > 1e-6] <= value + 1e-7).all(), name


@pytest.mark.parametrize("c", [0.1, 0.4, 2.0])
def test_cagrad_solver_matches_clarabel_on_hard_cases(c):
    """Same objective as an independent conic solver (Clarabel through cvxpy, tight tolerances), to 1e-8."""
    cp = pytest.importorskip("cvxpy")
    np = pytest.importorskip("numpy")
    from mtrl.surgery._linalg import normalize_gramian, regularize
    from mtrl.surgery.cagrad import cagrad_dual

    if "CLARABEL" not in cp.installed_solvers():
        pytest.skip("Clarabel is not installed")
    for name, J in hard_cagrad_jacobians():
        G = regularize(normalize_gramian(gramian(J))[0], J.dtype)
        T = G.shape[0]
        b = G @ torch.full((T,), 1 / T, dtype=G.dtype)
        w, radius = cagrad_dual(G, c, iters=100)
        variable = cp.Variable(T)
        factor = np.linalg.cholesky(G.numpy())
        problem = cp.Problem(cp.Minimize(b.numpy() @ variable + float(radius) * cp.norm(factor.T @ variable)),
                             [variable >= 0, cp.sum(variable) == 1])
        problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
        reference = torch.tensor(np.clip(variable.value, 0, None), dtype=G.dtype)
        reference = reference / reference.sum()
        ours, theirs = (v @ b + radius * (v @ G @ v).sqrt() for v in (w, reference))
        assert float(ours - theirs) <= 1e-8 * float(theirs.abs() + radius * G.diagonal().mean().sqrt()), name


# ------------------------------------------------------------------------------------------------- MGDA


@pytest.mark.parametrize("T", TS)
def test_mgda_is_the_min_norm_point_of_the_convex_hull(T):
    """KKT of ``min_{w ∈ Δ} ||w J||²``: ``g_i·d >= ||d||²`` for all i, with equality where ``w_i > 0``."""
    J = conflicting_jacobian(T, seed=T)
    tol = 1e-9
    out = run(build("mgda", T), J)
    w, d = out.task_weights, out.direction
    assert (w >= -1e-12).all() and abs(w.sum() - 1) < 1e-12
    scale = (J @ J.T).diagonal().max()
    margins = (J @ d - d @ d) / scale
    assert (margins >= -tol).all(), margins
    assert (margins[w > 1e-3] <= tol).all(), margins
    assert_non_conflicting(J, d)


@pytest.mark.parametrize("T", TS)
def test_mgda_frank_wolfe_approaches_the_same_min_norm_point(T):
    """The paper's Frank-Wolfe (250 steps, stop at a step < 1e-5) solves the same problem less accurately."""
    J = conflicting_jacobian(T, seed=T)
    exact = run(build("mgda", T), J).direction
    frank_wolfe = run(build("mgda", T, solver="frank_wolfe"), J)
    assert frank_wolfe.direction.norm() >= exact.norm() * (1 - 1e-9)  # the interior point is at least as good
    assert frank_wolfe.direction.norm() <= exact.norm() * 1.05
    assert (frank_wolfe.task_weights >= 0).all() and abs(frank_wolfe.task_weights.sum() - 1) < 1e-12


def test_mgda_without_conflict_dominated_by_the_shortest_gradient():
    """If one gradient is in the dual cone of the others' hull (g_1 · g_i >= ||g_1||²) it is the answer."""
    g = torch.tensor([[1.0, 0.0], [2.0, 1.0], [2.0, -1.5]], dtype=torch.float64)
    out = run(build("mgda", 3), g)
    assert_close(out.direction, g[0], 1e-9)


# --------------------------------------------------------------------------------------------- Nash-MTL


@pytest.mark.parametrize("T", TS)
def test_nash_mtl_weights_satisfy_the_bargaining_condition(T):
    J = conflicting_jacobian(T, P=80, seed=T)
    out = run(build("nash_mtl", T), J)
    w, d = out.task_weights, out.direction
    assert (w > 0).all()
    assert_close(w * (J @ d), torch.ones(T, dtype=J.dtype), 1e-9)
    assert abs(d @ d - T) < 1e-8 * T


def test_nash_mtl_max_norm_and_update_every():
    J = conflicting_jacobian(3)
    clipped = run(build("nash_mtl", 3, max_norm=0.5), J).direction
    assert abs(clipped.norm() - 0.5) < 1e-12
    method = build("nash_mtl", 3, update_weights_every=2)
    first = run(method, J).task_weights
    second = run(method, 2 * J).task_weights  # reused, not re-solved
    third = run(method, 2 * J).task_weights  # re-solved: weights scale as 1 / ||J||
    assert torch.equal(first, second)
    assert_close(third, first / 2, 1e-9)


# ----------------------------------------------------------------------------------------------- IMTL-G


@pytest.mark.parametrize("T", TS)
def test_imtl_g_gives_equal_projections_on_every_unit_gradient(T):
    J = conflicting_jacobian(T, seed=T)
    out = run(build("imtl_g", T), J)
    projections = J @ out.direction / J.norm(dim=1)
    assert_close(projections, projections.mean().expand(T), 1e-9)
    assert projections.mean() > 0
    assert abs(out.task_weights.sum() - 1) < 1e-12


# ------------------------------------------------------------------------------------------ Aligned-MTL


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("scale_mode", ["min", "median", "rmse"])
def test_aligned_mtl_aligns_the_gradient_system(T, scale_mode):
    """``Ĵ = Bᵀ J`` has orthogonal rows of equal norm (``Ĵ Ĵᵀ = σ I``, condition number 1), ``d`` is their mean,
    so ``d`` has the same component ``σ/T`` along every aligned gradient."""
    J = conflicting_jacobian(T, P=80, seed=T)
    method = build("aligned_mtl", T, scale_mode=scale_mode)
    out = run(method, J)
    G = gramian(J)
    B = method.balance_transformation(G, J.dtype)
    aligned = B.T @ J
    eigenvalues = torch.linalg.eigvalsh(G)
    sigma = {"min": eigenvalues.min(), "median": eigenvalues.median(), "rmse": eigenvalues.mean()}[scale_mode]
    assert_close(aligned @ aligned.T, sigma * torch.eye(T, dtype=J.dtype), 1e-9)
    assert_close(out.direction, aligned.mean(0), 1e-10)
    assert_close(aligned @ out.direction, (sigma / T).expand(T), 1e-9)


def test_aligned_mtl_rank_deficient_uses_the_non_zero_spectrum():
    J = conflicting_jacobian(3, P=60)
    J = torch.cat([J, J[:1] + J[1:2]])  # 4 tasks, rank 3
    method = build("aligned_mtl", 4)
    out = run(method, J)
    B = method.balance_transformation(gramian(J), J.dtype)
    aligned = B.T @ J
    eigenvalues = torch.linalg.eigvalsh(gramian(J))[1:]
    projector = aligned @ aligned.T / eigenvalues.min()
    assert_close(projector @ projector, projector, 1e-8)  # σ times a rank-3 orthogonal projector
    assert abs(torch.trace(projector) - 3) < 1e-8
    assert torch.isfinite(out.direction).all()


# ----------------------------------------------------------------------------------------------- UPGrad


@pytest.mark.parametrize("T", TS)
def test_upgrad_never_conflicts(T):
    for seed in range(3):
        J = conflicting_jacobian(T, seed=seed)
        assert_non_conflicting(J, run(build("upgrad", T), J).direction)


@pytest.mark.parametrize("T", TS)
def test_upgrad_without_conflict_is_the_mean(T):
    J = aligned_jacobian(T)
    assert_close(run(build("upgrad", T), J).direction, J.mean(0), 1e-9)


def test_upgrad_projects_each_gradient_onto_the_dual_cone():
    """Two tasks: the projection of g_1 onto {x: g_1·x >= 0, g_2·x >= 0} is PCGrad's p_1 when they conflict."""
    J = conflicting_jacobian(2)
    g1, g2 = J
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert_close(run(build("upgrad", 2), J).direction, (p1 + p2) / 2, 1e-9)


# ----------------------------------------------------------------------------------------------- ConFIG


@pytest.mark.parametrize("T", TS)
def test_config_has_equal_positive_cosine_with_every_task(T):
    J = conflicting_jacobian(T, seed=T)
    d = run(build("config", T), J).direction
    cosines = J @ d / (J.norm(dim=1) * d.norm())
    assert (cosines > 0).all()
    assert_close(cosines, cosines.mean().expand(T), 1e-9)
    unit = d / d.norm()
    assert abs(d.norm() - (J @ unit).sum()) < 1e-9 * d.norm()  # length = sum of the projections


# --------------------------------------------------------------------------------------------- GradDrop


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_graddrop_keeps_one_sign_per_coordinate(T, reduction):
    J = conflicting_jacobian(T, P=500)
    d = run(build("graddrop", T, reduction=reduction, seed=3), J).direction
    scale = 1 / T if reduction == "mean" else 1.0
    positive, negative = scale * J.clamp_min(0).sum(0), scale * J.clamp_max(0).sum(0)
    is_positive, is_negative = torch.isclose(d, positive), torch.isclose(d, negative)
    assert (is_positive | is_negative).all()
    mixed = (J > 0).any(0) & (J < 0).any(0)
    assert is_positive[mixed].any() and is_negative[mixed].any()  # both signs get picked somewhere
    purity = 0.5 * (1 + J.sum(0) / J.abs().sum(0))
    strong = purity > 0.97  # almost surely positive
    assert is_positive[strong].float().mean() > 0.9


def test_graddrop_without_sign_conflict_or_with_full_leak_is_the_mean():
    J = conflicting_jacobian(3, P=200)
    assert_close(run(build("graddrop", 3, leak=1.0), J).direction, J.mean(0), 1e-14)
    A = J.abs()
    assert_close(run(build("graddrop", 3), A).direction, A.mean(0), 1e-14)
    assert_close(run(build("graddrop", 3, leak=[1.0, 1.0, 1.0], reduction="sum"), J).direction, J.sum(0), 1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("leak", [[0.0, 0.3, 0.7, 1.0], 0.0, 0.3])
def test_graddrop_equals_its_explicit_mask_definition(reduction, leak):
    """The implementation never builds the (T, P) mask; check it against the paper's definition written out
    (per-task leaks, and one leak for all tasks, which has its own code path)."""
    T, P, seed = 4, 3000, 5
    J = conflicting_jacobian(T, P=P)
    d = run(build("graddrop", T, leak=leak, reduction=reduction, seed=seed), J).direction
    uniform = torch.rand(P, generator=torch.Generator().manual_seed(seed * 1_000_003), dtype=J.dtype)
    purity = 0.5 * (1 + J.sum(0) / J.abs().sum(0))
    mask = ((purity > uniform) & (J > 0)) | ((purity < uniform) & (J < 0))
    ell = torch.tensor(leak if isinstance(leak, list) else [leak] * T, dtype=J.dtype)[:, None]
    expected = ((ell + (1 - ell) * mask.to(J.dtype)) * J).sum(0)
    assert_close(d, expected / T if reduction == "mean" else expected, 1e-12)


# ---------------------------------------------------------------------------------------------- GradVac


def test_gradvac_first_call_is_pcgrad_then_moves_cosines_to_the_targets():
    J = conflicting_jacobian(2)
    beta = 0.5
    method = build("gradvac", 2, beta=beta)
    assert_close(run(method, J).direction, run(build("pcgrad", 2), J).direction, 1e-6)  # up to GradVac's eps
    cosine = (J[0] @ J[1] / (J[0].norm() * J[1].norm())).item()
    assert method.targets is not None
    assert abs(method.targets[0, 1] - beta * cosine) < 1e-6  # EMA from 0 (cosines carry eps = 1e-8)
    # next call, same gradients: the cosine (-0.95) is below its target (-0.48) and is raised to exactly it
    targets = method.targets.clone()
    assert cosine < targets[0, 1] < 0
    adjusted = method.adjusted_coefficients(gramian(J)) @ J
    achieved = adjusted[0] @ J[1] / (adjusted[0].norm() * J[1].norm())
    assert abs(achieved - targets[0, 1]) < 1e-6
    assert abs(method.targets[0, 1] - (targets[0, 1] * (1 - beta) + beta * cosine)) < 1e-6  # EMA step


def test_gradvac_with_targets_met_is_the_mean():
    J = aligned_jacobian(3)
    assert_close(run(build("gradvac", 3), J).direction, J.mean(0), 1e-12)


# ----------------------------------------------------------------------------------- badly scaled inputs


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_solvers_keep_their_guarantees_when_gradient_norms_span_four_orders(dtype):
    """Fixed iteration counts must suffice for gradient norms from 1e-2 to 1e2 (Gramian entries over 1e8)."""
    T = 10
    J64 = conflicting_jacobian(T, P=100, seed=4) * torch.logspace(-2, 2, T, dtype=torch.float64).unsqueeze(1)
    J = J64.to(dtype)
    rtol = 1e-5 if dtype == torch.float32 else 1e-9
    upgrad = run(build("upgrad", T), J).direction.double()
    assert_non_conflicting(J64, upgrad, rtol=rtol)
    mgda = run(build("mgda", T), J)
    d = mgda.direction.double()
    margins = (J64 @ d - d @ d) / (J64 @ J64.T).diagonal().max()
    assert (margins >= -rtol).all() and (margins[mgda.task_weights > 1e-3] <= rtol).all()
    nash = run(build("nash_mtl", T), J)
    products = nash.task_weights.double() * (J64 @ nash.direction.double())
    assert_close(products, torch.ones(T, dtype=torch.float64), 1e-3 if dtype == torch.float32 else 1e-8)
    cagrad = run(build("cagrad", T, rescale=0), J).direction.double()
    g0 = J64.mean(0)
    assert abs((cagrad - g0).norm() / (0.4 * g0.norm()) - 1) < (1e-4 if dtype == torch.float32 else 1e-8)


# ------------------------------------------------------------------------------------ loss weightings


def test_uw_weights_are_exp_minus_log_variance_and_large_losses_lose_weight():
    method = build("uw", 2, lr=0.05)
    losses = torch.tensor([10.0, 0.1])
    first = method.loss_weights(losses)
    assert torch.equal(first, torch.ones(2))  # s = 0
    for _ in range(200):
        weights = method.loss_weights(losses)
    s = method.log_vars.value
    assert_close(weights, torch.exp(-s), 0.1)  # exp(-s) before the last step
    assert s[0] > 0 > s[1]  # large loss: larger log-variance, smaller weight
    assert weights[0] < 1 < weights[1]
    for _ in range(2000):
        weights = method.loss_weights(losses)
    assert_close(weights, 1 / losses, 0.05)  # the fixed point exp(-s) = 1 / L


def test_dwa_uses_the_ratio_of_the_last_two_losses():
    method = build("dwa", 3, temperature=2.0)
    l1, l2, l3 = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.5, 1.0, 2.0]), torch.tensor([0.4, 0.9, 2.0])
    assert torch.equal(method.loss_weights(l1), torch.ones(3))
    assert torch.equal(method.loss_weights(l2), torch.ones(3))
    expected = 3 * torch.softmax((l2 / l1) / 2.0, dim=0)
    assert_close(method.loss_weights(l3), expected, 1e-6)
    assert abs(expected.sum() - 3) < 1e-6
    assert_close(method.loss_weights(l3), 3 * torch.softmax((l3 / l2) / 2.0, dim=0), 1e-6)


def test_rlw_weights_are_a_random_point_of_the_simplex():
    method = build("rlw", 4, seed=1)
    draws = torch.stack([method.loss_weights(torch.ones(4)) for _ in range(50)])
    assert (draws > 0).all()
    assert_close(draws.sum(1), torch.ones(50), 1e-6)
    assert draws.std(0).min() > 0.02  # fresh every call
    assert_close(draws.mean(0), torch.full((4,), 0.25), 0.2)  # exchangeable


def test_famo_weights_and_logit_update():
    method = build("famo", 2)
    first = method.loss_weights(torch.tensor([1.0, 4.0]))
    assert_close(first, torch.tensor([0.8, 0.2]), 1e-6)  # z uniform: w ∝ 1 / L, summing to 1
    # task 0's log-loss falls a lot, task 1's barely: task 1's logit rises
    second = method.loss_weights(torch.tensor([0.25, 3.9]))
    logits = method.logits.value
    assert logits[1] > logits[0]
    z = torch.softmax(logits, 0)
    expected = (z / torch.tensor([0.25, 3.9])) / (z / torch.tensor([0.25, 3.9])).sum()
    assert_close(second, expected, 1e-5)
    assert abs(second.sum() - 1) < 1e-6
    offset = build("famo", 2, min_loss=[0.5, 0.0])
    assert_close(offset.loss_weights(torch.tensor([1.0, 1.0])), torch.tensor([2 / 3, 1 / 3]), 1e-5)


def test_gradnorm_moves_weights_towards_balanced_gradient_norms():
    T, P = 2, 40
    J = conflicting_jacobian(T, P=P, dtype=torch.float32)
    columns = slice(20, 40)
    J[0, columns] *= 10 / J[0, columns].norm()  # last-layer norms 10 and 1
    J[1, columns] *= 1 / J[1, columns].norm()
    J[0, :20] *= 0.01  # the other columns say the opposite: they must be ignored
    method = build("gradnorm", T, alpha=1.5, lr=0.05)
    losses = torch.tensor([1.0, 1.0])
    first = method.combine(J, losses, last_shared=columns).task_weights
    assert torch.equal(first, torch.ones(T))
    for _ in range(100):
        weights = method.combine(J, losses, last_shared=columns).task_weights
    assert abs(weights.sum() - T) < 1e-5
    assert weights[0] < 0.5 < 1.5 < weights[1]
    balanced = weights * J[:, columns].norm(dim=1)
    assert abs(balanced[0] / balanced[1] - 1) < 0.2
    # a slower-training task (higher loss ratio) gets a higher target
    method = build("gradnorm", T, alpha=1.5, lr=0.05)
    equal = J.clone()
    equal[0, columns] = J[1, columns]
    method.combine(equal, torch.tensor([1.0, 1.0]), last_shared=columns)
    for _ in range(50):
        weights = method.combine(equal, torch.tensor([0.2, 1.0]), last_shared=columns).task_weights
    assert weights[1] > weights[0]
    assert math.isclose(weights.sum().item(), T, rel_tol=1e-5)


def test_loss_weightings_direction_is_the_weighted_sum_of_gradients():
    J = conflicting_jacobian(3)
    for name in ("uw", "dwa", "rlw", "famo", "gradnorm"):
        out = run(build(name, 3), J, positive_losses(3))
        assert_close(out.direction, out.task_weights @ J, 1e-14, what=name)
