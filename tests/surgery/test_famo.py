"""FAMO (Liu et al. 2023, *Fast Adaptive Multitask Optimization*, Algorithm 1): loss weights from task logits
updated by the change of the log-losses; checked against the formula."""

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

NAME = "famo"


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
    ({"min_loss": [0.0]}, "min_loss must be"),
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


def test_weights_and_logit_update():
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
