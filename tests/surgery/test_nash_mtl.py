"""Nash-MTL (Navon et al. 2022, *Multi-Task Learning as a Bargaining Game*): weights that solve the bargaining
condition ``w ⊙ (G w) = 1``; checked by the condition itself, its options and against torchjd."""

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
    assert_invalid_options_are_an_error,
    assert_no_host_sync_inside_combine,
    assert_permutation_invariant,
    assert_state_dict_round_trip_reproduces_the_next_output,
    assert_valid_outputs_over_steps,
    assert_wrong_jacobian_shape_is_an_error,
    badly_scaled_jacobian,
    build,
    case_jacobian,
    conflicting_jacobian,
    run,
    torchjd_or_skip,
)

NAME = "nash_mtl"


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
    ({"update_weights_every": 0}, "update_weights_every must be >= 1"),
])
def test_invalid_options_are_errors(options, match):
    assert_invalid_options_are_an_error(NAME, options, match)


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
def test_weights_satisfy_the_bargaining_condition(T):
    J = conflicting_jacobian(T, P=80, seed=T)
    out = run(build("nash_mtl", T), J)
    w, d = out.task_weights, out.direction
    assert (w > 0).all()
    assert_close(w * (J @ d), torch.ones(T, dtype=J.dtype), 1e-9)
    assert abs(d @ d - T) < 1e-8 * T


def test_max_norm_and_update_every():
    J = conflicting_jacobian(3)
    clipped = run(build("nash_mtl", 3, max_norm=0.5), J).direction
    assert abs(clipped.norm() - 0.5) < 1e-12
    method = build("nash_mtl", 3, update_weights_every=2)
    first = run(method, J).task_weights
    second = run(method, 2 * J).task_weights  # reused, not re-solved
    third = run(method, 2 * J).task_weights  # re-solved: weights scale as 1 / ||J||
    assert torch.equal(first, second)
    assert_close(third, first / 2, 1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_meets_the_bargaining_condition_when_gradient_norms_span_four_orders(dtype):
    """Fixed iteration counts must suffice for gradient norms from 1e-2 to 1e2 (Gramian entries over 1e8)."""
    J64, J, _ = badly_scaled_jacobian(dtype)
    nash = run(build("nash_mtl", 10), J)
    products = nash.task_weights.double() * (J64 @ nash.direction.double())
    assert_close(products, torch.ones(10, dtype=torch.float64), 1e-3 if dtype == torch.float32 else 1e-8)


# ------------------------------------------------------------------------------------------- agreement with torchjd


@pytest.mark.parametrize("T,seed", TORCHJD_CASES)
def test_agrees_with_torchjd(T, seed, torchjd):
    """torchjd ports the authors' solver: a sequence of convex programs whose result satisfies the bargaining
    condition only as an inequality, ``w_i (G w)_i >= 1``, often with slack. Ours solves the equality exactly.
    They agree (to 1e-2) where torchjd's solution is tight; elsewhere we check torchjd's feasibility only."""
    J = case_jacobian(T, seed)
    reference_weights = torchjd_or_skip(lambda: torchjd.NashMTL(n_tasks=T, max_norm=0.0)).weighting(J)
    G = J @ J.T
    products = reference_weights * (G @ reference_weights)
    assert (products >= 1 - 1e-3).all()
    mine = run(build("nash_mtl", T), J).task_weights
    assert_close(mine * (G @ mine), torch.ones(T, dtype=J.dtype), 1e-9)
    if (products - 1).abs().max() < 1e-3:
        assert_close(mine @ J, reference_weights @ J, 1e-2)
