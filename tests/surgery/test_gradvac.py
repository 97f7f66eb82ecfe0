"""GradVac (Wang et al. 2021, *Gradient Vaccine*): PCGrad that raises each pair's cosine to an EMA target instead
of to zero; checked on its first call, the target update and against torchjd over several steps."""

from __future__ import annotations

from mtrl.surgery._linalg import gramian
from tests.surgery.asserts import aligned_jacobian, assert_close, build, case_jacobian, conflicting_jacobian, run
from tests.surgery.properties import StochasticAggregatorProperties

# -------------------------------------------------------------------------------------- properties every method has


class TestGradVacProperties(StochasticAggregatorProperties):
    NAME = "gradvac"
    INVALID_OPTIONS = [({"beta": 2.0}, "beta must be in")]


# ------------------------------------------------------------------------------------------- what the paper defines


def test_first_call_is_pcgrad_then_moves_cosines_to_the_targets():
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


def test_with_targets_met_is_the_mean():
    J = aligned_jacobian(3)
    assert_close(run(build("gradvac", 3), J).direction, J.mean(0), 1e-12)


# ------------------------------------------------------------------------------------------- agreement with torchjd


def test_agrees_with_torchjd_on_two_tasks_over_several_steps(torchjd):
    """T = 2 (the visiting order is irrelevant), state carried over 4 steps; torchjd adds eps = 1e-8 to raw-scale
    denominators, we to normalised ones: agreement to 1e-5."""
    method, reference = build("gradvac", 2, reduction="sum"), torchjd.GradVac()
    for step in range(4):
        J = case_jacobian(2, step)
        assert_close(run(method, J).direction, reference(J), 1e-5)
