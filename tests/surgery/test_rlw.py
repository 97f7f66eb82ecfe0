"""Random Loss Weighting (Lin et al. 2021): loss weights drawn fresh from the simplex at every step; checked for
their distribution."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import (
    DTYPES,
    OUTPUT_TASK_COUNTS,
    SCALES,
    assert_a_finite_direction_or_the_clean_error_at_scale,
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
    assert_takes_a_seed,
    assert_the_seed_changes_the_draws,
    assert_valid_outputs_over_steps,
    build,
)

NAME = "rlw"


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
    ({"seed": -1}, "seed must be >= 0"),
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


def test_direction_is_the_weighted_sum_of_gradients():
    assert_direction_is_the_weighted_sum_of_gradients(NAME)


def test_no_host_sync_inside_combine(monkeypatch):
    assert_no_host_sync_inside_combine(NAME, monkeypatch)


@pytest.mark.parametrize("scale", SCALES)
def test_a_finite_direction_or_the_clean_error_at_any_scale(scale):
    assert_a_finite_direction_or_the_clean_error_at_scale(NAME, scale)


def test_aggregate_equals_combine():
    assert_aggregate_equals_combine(NAME)


# ------------------------------------------------------------------------------------------- what the paper defines


def test_weights_are_a_random_point_of_the_simplex():
    method = build("rlw", 4, seed=1)
    draws = torch.stack([method.loss_weights(torch.ones(4)) for _ in range(50)])
    assert (draws > 0).all()
    assert_close(draws.sum(1), torch.ones(50), 1e-6)
    assert draws.std(0).min() > 0.02  # fresh every call
    assert_close(draws.mean(0), torch.full((4,), 0.25), 0.2)  # exchangeable
