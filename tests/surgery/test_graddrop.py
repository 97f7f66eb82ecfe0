"""GradDrop (Chen et al. 2020, *Just Pick a Sign*): per coordinate, keep the gradients of one sign drawn by the
sign purity; checked against the paper's mask written out, its no-conflict and full-leak cases and torchjd."""

from __future__ import annotations

import pytest
import torch

from tests.surgery.asserts import (
    DTYPES,
    OUTPUT_TASK_COUNTS,
    SCALES,
    TS,
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
    ours,
    run,
)

NAME = "graddrop"


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
    ({"leak": [0.1, 0.2]}, "leak must be"),
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


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_keeps_one_sign_per_coordinate(T, reduction):
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


def test_without_sign_conflict_or_with_full_leak_is_the_mean():
    J = conflicting_jacobian(3, P=200)
    assert_close(run(build("graddrop", 3, leak=1.0), J).direction, J.mean(0), 1e-14)
    A = J.abs()
    assert_close(run(build("graddrop", 3), A).direction, A.mean(0), 1e-14)
    assert_close(run(build("graddrop", 3, leak=[1.0, 1.0, 1.0], reduction="sum"), J).direction, J.sum(0), 1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("leak", [[0.0, 0.3, 0.7, 1.0], 0.0, 0.3])
def test_equals_its_explicit_mask_definition(reduction, leak):
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


# ------------------------------------------------------------------------------------------- agreement with torchjd


def test_agrees_with_torchjd_without_sign_conflicts(torchjd):
    """GradDrop is random; with no sign conflict, or with leak 1, nothing is dropped: both are the sum."""
    J = case_jacobian(3, 0)
    assert_close(ours("graddrop", J.abs(), reduction="sum"), torchjd.GradDrop()(J.abs()), 1e-14)
    leak = torch.ones(3, dtype=J.dtype)
    assert_close(ours("graddrop", J, leak=1.0, reduction="sum"), torchjd.GradDrop(leak=leak)(J), 1e-14)
