"""Uncertainty weighting (Kendall, Gal, Cipolla 2018): loss weights ``exp(-s)`` with learned log-variances ``s``;
checked for its weights and their fixed point ``1 / L``."""

from __future__ import annotations

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
    assert_close,
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
)

NAME = "uw"


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
    ({"lr": 0.0}, "learning rate must be > 0"),
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


def test_weights_are_exp_minus_log_variance_and_large_losses_lose_weight():
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
