"""Dynamic Weight Average (Liu, Johns, Davison 2019, Eq. 7): loss weights from the softmax of the last two losses'
ratios; checked against the formula."""

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

NAME = "dwa"


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
    ({"temperature": 0.0}, "temperature must be > 0"),
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


def test_uses_the_ratio_of_the_last_two_losses():
    method = build("dwa", 3, temperature=2.0)
    l1, l2, l3 = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.5, 1.0, 2.0]), torch.tensor([0.4, 0.9, 2.0])
    assert torch.equal(method.loss_weights(l1), torch.ones(3))
    assert torch.equal(method.loss_weights(l2), torch.ones(3))
    expected = 3 * torch.softmax((l2 / l1) / 2.0, dim=0)
    assert_close(method.loss_weights(l3), expected, 1e-6)
    assert abs(expected.sum() - 3) < 1e-6
    assert_close(method.loss_weights(l3), 3 * torch.softmax((l3 / l2) / 2.0, dim=0), 1e-6)
