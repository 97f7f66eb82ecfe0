"""The properties every surgery method has, as test classes a method's file subclasses (torchjd / SB3 style):
``class TestUWProperties(DeterministicLossWeightingProperties): NAME = "uw"; INVALID_OPTIONS = [...]`` in
``tests/surgery/test_uw.py`` runs all of them on UW. The checks themselves are the ``assert_*`` functions of
``asserts.py``; this module only says which family runs which, and is not collected (no ``test_`` prefix).

Families: every method; aggregators (take the ``(T, P)`` Jacobian), deterministic or stochastic; loss weightings
(weights ``(T,)`` from the losses), with a deterministic state (UW, DWA, FAMO, GradNorm) or stochastic (RLW).
:func:`properties_of` gives a method's family; ``test_registry.py`` checks each method's file subclasses it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from tests.surgery.asserts import (
    DTYPES,
    LOSS_WEIGHTINGS,
    OUTPUT_TASK_COUNTS,
    SCALES,
    STOCHASTIC,
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
    assert_permutation_invariant,
    assert_state_dict_round_trip_reproduces_the_next_output,
    assert_takes_a_seed,
    assert_the_seed_changes_the_draws,
    assert_valid_outputs_over_steps,
    assert_weights_follow_a_permutation_of_the_tasks,
    assert_wrong_jacobian_shape_is_an_error,
    conflicting_jacobian,
)


class MethodProperties:
    """What every method has. A subclass sets ``NAME`` (the registry name) and ``INVALID_OPTIONS``: pairs
    ``(options, message pattern)`` that ``make_surgery`` must reject with that ``ValueError``; tests/surgery/conftest.py
    parametrises ``test_invalid_options_are_errors`` over them, and collects no such test where the list is empty
    (mean, sum, IMTL-G and ConFIG have no options; none are listed for UPGrad yet)."""

    NAME: ClassVar[str]
    INVALID_OPTIONS: ClassVar[list[tuple[dict[str, Any], str]]] = []

    @pytest.mark.parametrize("T", OUTPUT_TASK_COUNTS)
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_output_shape_dtype_device_and_finite(self, T, dtype):
        assert_valid_outputs_over_steps(self.NAME, T, dtype)

    def test_family_and_flags(self):
        assert_family_and_flags(self.NAME)

    def test_constructs_with_defaults_and_every_option(self):
        assert_constructs_with_defaults_and_every_option(self.NAME)

    def test_invalid_options_are_errors(self, options, match):
        assert_invalid_options_are_an_error(self.NAME, options, match)

    def test_deterministic_for_a_fixed_seed(self):
        assert_deterministic_for_a_fixed_seed(self.NAME)

    def test_state_dict_round_trip_reproduces_the_next_output(self):
        assert_state_dict_round_trip_reproduces_the_next_output(self.NAME)

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_a_single_task_moves_along_its_gradient(self, dtype):
        assert_a_single_task_moves_along_its_gradient(self.NAME, dtype)

    def test_a_zero_jacobian_gives_a_finite_zero_direction(self):
        assert_a_zero_jacobian_gives_a_finite_zero_direction(self.NAME)

    def test_no_host_sync_inside_combine(self, monkeypatch):
        assert_no_host_sync_inside_combine(self.NAME, monkeypatch)

    @pytest.mark.parametrize("scale", SCALES)
    def test_a_finite_direction_or_the_clean_error_at_any_scale(self, scale):
        assert_a_finite_direction_or_the_clean_error_at_scale(self.NAME, scale)

    def test_aggregate_equals_combine(self):
        assert_aggregate_equals_combine(self.NAME)


class SeededProperties(MethodProperties):
    """Stochastic methods (PCGrad, GradDrop, GradVac, RLW): a ``seed`` option that changes the draws."""

    def test_takes_a_seed(self):
        assert_takes_a_seed(self.NAME)

    def test_the_seed_changes_the_draws(self):
        assert_the_seed_changes_the_draws(self.NAME)


class AggregatorProperties(MethodProperties):
    """Methods that combine the ``(T, P)`` Jacobian: a Jacobian of another task count is an error."""

    def test_wrong_jacobian_shape_is_an_error(self):
        assert_wrong_jacobian_shape_is_an_error(self.NAME)


class DeterministicAggregatorProperties(AggregatorProperties):
    """Aggregators without draws: the direction does not depend on the order of the tasks."""

    @pytest.mark.parametrize("T", [3, 10])
    def test_permutation_invariance(self, T):
        assert_permutation_invariant(self.NAME, conflicting_jacobian(T, P=80, seed=T), rtol=1e-7)


class StochasticAggregatorProperties(AggregatorProperties, SeededProperties):
    """Aggregators that draw (PCGrad's projection order, GradDrop's signs, GradVac's order)."""


class LossWeightingProperties(MethodProperties):
    """Methods that weight the losses: the direction is the weighted sum of the task gradients."""

    def test_direction_is_the_weighted_sum_of_gradients(self):
        assert_direction_is_the_weighted_sum_of_gradients(self.NAME)


class DeterministicLossWeightingProperties(LossWeightingProperties):
    """Loss weightings with a deterministic state (UW, DWA, FAMO, GradNorm): the weights follow a permutation of
    the tasks, and a NaN loss does not poison the state for good."""

    def test_weights_follow_a_permutation_of_the_tasks(self):
        assert_weights_follow_a_permutation_of_the_tasks(self.NAME)

    def test_a_nan_loss_does_not_make_the_weights_nan_for_good(self):
        assert_a_nan_loss_does_not_make_the_weights_nan_for_good(self.NAME)


class StochasticLossWeightingProperties(LossWeightingProperties, SeededProperties):
    """Loss weightings that draw their weights (RLW)."""


def properties_of(name: str) -> type[MethodProperties]:
    """The property class of a registered method's family."""
    if name in LOSS_WEIGHTINGS:
        return StochasticLossWeightingProperties if name in STOCHASTIC else DeterministicLossWeightingProperties
    return StochasticAggregatorProperties if name in STOCHASTIC else DeterministicAggregatorProperties
