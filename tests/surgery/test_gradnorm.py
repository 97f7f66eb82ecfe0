"""GradNorm (Chen et al. 2018, Algorithm 1): loss weights learned so that the last shared layer's gradient norms
follow the tasks' training rates; checked for moving towards balanced norms."""

from __future__ import annotations

import math

import pytest
import torch

from tests.surgery.asserts import (
    DTYPES,
    OUTPUT_TASK_COUNTS,
    SCALES,
    assert_a_finite_direction_or_the_clean_error_at_scale,
    assert_a_nan_loss_does_not_make_the_weights_nan_for_good,
    assert_a_single_task_moves_along_its_gradient,
    assert_a_zero_jacobian_gives_a_finite_zero_direction,
    assert_aggregate_equals_combine,
    assert_constructs_with_defaults_and_every_option,
    assert_deterministic_for_a_fixed_seed,
    assert_direction_is_the_weighted_sum_of_gradients,
    assert_family_and_flags,
    assert_invalid_options_are_an_error,
    assert_no_host_sync_inside_combine,
    assert_state_dict_round_trip_reproduces_the_next_output,
    assert_valid_outputs_over_steps,
    assert_weights_follow_a_permutation_of_the_tasks,
    build,
    conflicting_jacobian,
)

NAME = "gradnorm"


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
    ({"alpha": -1.0}, "alpha must be >= 0"),
])
def test_invalid_options_are_errors(options, match):
    assert_invalid_options_are_an_error(NAME, options, match)


def test_deterministic_for_a_fixed_seed():
    assert_deterministic_for_a_fixed_seed(NAME)


def test_state_dict_round_trip_reproduces_the_next_output():
    assert_state_dict_round_trip_reproduces_the_next_output(NAME)


def test_weights_follow_a_permutation_of_the_tasks():
    assert_weights_follow_a_permutation_of_the_tasks(NAME)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_single_task_moves_along_its_gradient(dtype):
    assert_a_single_task_moves_along_its_gradient(NAME, dtype)


def test_a_zero_jacobian_gives_a_finite_zero_direction():
    assert_a_zero_jacobian_gives_a_finite_zero_direction(NAME)


def test_direction_is_the_weighted_sum_of_gradients():
    assert_direction_is_the_weighted_sum_of_gradients(NAME)


def test_no_host_sync_inside_combine(monkeypatch):
    assert_no_host_sync_inside_combine(NAME, monkeypatch)


@pytest.mark.parametrize("scale", SCALES)
def test_a_finite_direction_or_the_clean_error_at_any_scale(scale):
    assert_a_finite_direction_or_the_clean_error_at_scale(NAME, scale)


def test_aggregate_equals_combine():
    assert_aggregate_equals_combine(NAME)


def test_a_nan_loss_does_not_make_the_weights_nan_for_good():
    assert_a_nan_loss_does_not_make_the_weights_nan_for_good(NAME)


# ------------------------------------------------------------------------------------------- what the paper defines


def test_moves_weights_towards_balanced_gradient_norms():
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
