"""GradVac (Wang et al. 2021, *Gradient Vaccine*): PCGrad that raises each pair's cosine to an EMA target instead
of to zero; checked on its first call, the target update and against torchjd over several steps."""

from __future__ import annotations

import pytest

from mtrl.surgery._linalg import gramian
from tests.surgery.asserts import (
    DTYPES,
    OUTPUT_TASK_COUNTS,
    SCALES,
    aligned_jacobian,
    assert_a_finite_direction_or_the_clean_error_at_scale,
    assert_a_single_task_moves_along_its_gradient,
    assert_a_zero_jacobian_gives_a_finite_zero_direction,
    assert_aggregate_equals_combine,
    assert_close,
    assert_constructs_with_defaults_and_every_option,
    assert_deterministic_for_a_fixed_seed,
    assert_family_and_flags,
    assert_invalid_options_are_an_error,
    assert_no_host_sync_inside_combine,
    assert_state_dict_round_trip_reproduces_the_next_output,
    assert_takes_a_seed,
    assert_the_seed_changes_the_draws,
    assert_valid_outputs_over_steps,
    assert_wrong_jacobian_shape_is_an_error,
    build,
    case_jacobian,
    conflicting_jacobian,
    run,
)

NAME = "gradvac"


# -------------------------------------------------------------------------------------- properties every method has


@pytest.mark.parametrize("T", OUTPUT_TASK_COUNTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_output_shape_dtype_device_and_finite(T, dtype):
    assert_valid_outputs_over_steps(NAME, T, dtype)


def test_family_and_flags():
    assert_family_and_flags(NAME)


def test_constructs_with_defaults_and_every_option():
    assert_constructs_with_defaults_and_every_option(NAME)


@pytest.mark.parametrize("options,match", [
    ({"beta": 2.0}, "beta must be in"),
])
def test_invalid_options_are_errors(options, match):
    assert_invalid_options_are_an_error(NAME, options, match)


def test_deterministic_for_a_fixed_seed():
    assert_deterministic_for_a_fixed_seed(NAME)


def test_takes_a_seed():
    assert_takes_a_seed(NAME)


def test_the_seed_changes_the_draws():
    assert_the_seed_changes_the_draws(NAME)


def test_state_dict_round_trip_reproduces_the_next_output():
    assert_state_dict_round_trip_reproduces_the_next_output(NAME)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_single_task_moves_along_its_gradient(dtype):
    assert_a_single_task_moves_along_its_gradient(NAME, dtype)


def test_a_zero_jacobian_gives_a_finite_zero_direction():
    assert_a_zero_jacobian_gives_a_finite_zero_direction(NAME)


def test_wrong_jacobian_shape_is_an_error():
    assert_wrong_jacobian_shape_is_an_error(NAME)


def test_no_host_sync_inside_combine(monkeypatch):
    assert_no_host_sync_inside_combine(NAME, monkeypatch)


@pytest.mark.parametrize("scale", SCALES)
def test_a_finite_direction_or_the_clean_error_at_any_scale(scale):
    assert_a_finite_direction_or_the_clean_error_at_scale(NAME, scale)


def test_aggregate_equals_combine():
    assert_aggregate_equals_combine(NAME)


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
