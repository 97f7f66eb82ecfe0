"""Mean: the average of the task gradients, ``d = (1/T) Σ_i g_i`` (the gradient of the mean loss), task weights
``1/T``; the baseline every other method is compared with."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import (
    DTYPES,
    OUTPUT_TASK_COUNTS,
    SCALES,
    TORCHJD_CASES,
    TS,
    assert_a_finite_direction_or_the_clean_error_at_scale,
    assert_a_single_task_moves_along_its_gradient,
    assert_a_zero_jacobian_gives_a_finite_zero_direction,
    assert_aggregate_equals_combine,
    assert_close,
    assert_constructs_with_defaults_and_every_option,
    assert_deterministic_for_a_fixed_seed,
    assert_family_and_flags,
    assert_no_host_sync_inside_combine,
    assert_permutation_invariant,
    assert_state_dict_round_trip_reproduces_the_next_output,
    assert_valid_outputs_over_steps,
    assert_wrong_jacobian_shape_is_an_error,
    build,
    case_jacobian,
    conflicting_jacobian,
    ours,
    run,
)

NAME = "mean"


# -------------------------------------------------------------------------------------- properties every method has


@pytest.mark.parametrize("T", OUTPUT_TASK_COUNTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_output_shape_dtype_device_and_finite(T, dtype):
    assert_valid_outputs_over_steps(NAME, T, dtype)


def test_family_and_flags():
    assert_family_and_flags(NAME)


def test_constructs_with_defaults_and_every_option():
    assert_constructs_with_defaults_and_every_option(NAME)


def test_deterministic_for_a_fixed_seed():
    assert_deterministic_for_a_fixed_seed(NAME)


def test_state_dict_round_trip_reproduces_the_next_output():
    assert_state_dict_round_trip_reproduces_the_next_output(NAME)


@pytest.mark.parametrize("T", [3, 10])
def test_permutation_invariance(T):
    assert_permutation_invariant(NAME, conflicting_jacobian(T, P=80, seed=T), rtol=1e-7)


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


@pytest.mark.parametrize("T", TS)
def test_is_the_average(T):
    J = conflicting_jacobian(T)
    mean = run(build("mean", T), J)
    assert_close(mean.direction, J.mean(0), 1e-14)
    assert torch.equal(mean.task_weights, torch.full((T,), 1 / T, dtype=J.dtype))
    assert torch.equal(build("mean", T).loss_weights(torch.ones(T)), torch.full((T,), 1 / T))


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    J = case_jacobian(T, seed)
    assert_close(ours("mean", J), torchjd.Mean()(J), 1e-14)
