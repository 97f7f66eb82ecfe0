"""The registry and ``make_surgery``: the documented names, the errors for unknown names and options, the
families' inputs, and a test file per method calling the shared property checks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from mtrl.surgery import SURGERY_METHODS, Surgery, list_methods, make_surgery, method_options
from tests.surgery.asserts import ALL_METHODS, LOSS_WEIGHTINGS, STOCHASTIC

NAMES = ["mean", "sum", "pcgrad", "cagrad", "mgda", "nash_mtl", "fairgrad", "imtl_g", "aligned_mtl", "upgrad",
         "graddrop", "gradvac", "config", "uw", "dwa", "rlw", "famo", "gradnorm"]


def test_the_registry_has_exactly_the_documented_names():
    assert list_methods() == NAMES
    assert list(SURGERY_METHODS) == NAMES
    for name, cls in SURGERY_METHODS.items():
        assert issubclass(cls, Surgery) and cls.name == name
        doc = cls.__doc__ or ""
        assert "Shapes" in doc and ("Definition" in doc or name in ("mean", "sum")), name
        assert all(option in doc for option in method_options(name)), name  # every option documented


def test_unknown_name_says_what_is_valid_and_suggests():
    with pytest.raises(ValueError) as err:
        make_surgery("pcgard", 3)
    message = str(err.value)
    assert "'pcgard'" in message and "Did you mean 'pcgrad'?" in message
    assert all(name in message for name in NAMES) and "torchjd:" in message
    with pytest.raises(ValueError, match="unknown surgery method 'xyzzy'"):
        make_surgery("xyzzy", 3)


def test_unknown_option_names_the_option_and_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        make_surgery("cagrad", 3, cc=0.5)
    message = str(err.value)
    assert "cagrad" in message and "'cc'" in message and "did you mean 'c'?" in message
    assert all(option in message for option in ("c", "rescale", "max_iters"))
    with pytest.raises(ValueError, match=r"imtl_g: unknown option 'seed'; valid options: \(none\)"):
        make_surgery("imtl_g", 3, seed=0)


def test_num_tasks_must_be_positive():
    with pytest.raises(ValueError, match="num_tasks"):
        make_surgery("mean", 0)


def test_loss_weightings_without_a_jacobian_and_aggregators_need_one():
    losses = torch.tensor([1.0, 2.0, 3.0])
    for name in ("uw", "dwa", "rlw", "famo"):
        out = make_surgery(name, 3).combine(None, losses)
        assert out.direction is None and out.task_weights.shape == (3,)
    with pytest.raises(ValueError, match="needs the per-task Jacobian"):
        make_surgery("pcgrad", 3).combine(None, losses)
    with pytest.raises(ValueError, match="gradnorm needs the per-task Jacobian"):
        make_surgery("gradnorm", 3).combine(None, losses)


#: the method whose test file is not named after it: the ConFIG method is ``config`` in the registry
TEST_FILES = {"config": "test_conflict_free.py"}
#: the property checks of tests/surgery/asserts.py every method's file calls, and those of its family
EVERY_METHOD = {"assert_valid_outputs_over_steps", "assert_family_and_flags",
                "assert_constructs_with_defaults_and_every_option", "assert_deterministic_for_a_fixed_seed",
                "assert_state_dict_round_trip_reproduces_the_next_output",
                "assert_a_single_task_moves_along_its_gradient", "assert_a_zero_jacobian_gives_a_finite_zero_direction",
                "assert_no_host_sync_inside_combine", "assert_a_finite_direction_or_the_clean_error_at_scale",
                "assert_aggregate_equals_combine"}
AGGREGATORS = {"assert_wrong_jacobian_shape_is_an_error"}
LOSS_WEIGHTINGS_ONLY = {"assert_direction_is_the_weighted_sum_of_gradients"}
STOCHASTIC_ONLY = {"assert_takes_a_seed", "assert_the_seed_changes_the_draws"}


@pytest.mark.parametrize("name", ALL_METHODS)
def test_every_method_has_a_test_file_that_calls_the_property_checks(name):
    """A method added to the registry gets ``tests/surgery/test_<name>.py`` calling the shared property checks
    (read from its source, not imported: test files do not import each other)."""
    path = Path(__file__).with_name(TEST_FILES.get(name, f"test_{name}.py"))
    assert path.is_file(), f"{name}: no test file {path.name}"
    tree = ast.parse(path.read_text())
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assigned = {node.targets[0].id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant)}
    assert assigned.get("NAME") == name, f"{path.name}: NAME = {assigned.get('NAME')!r}"
    expected = EVERY_METHOD | (LOSS_WEIGHTINGS_ONLY if name in LOSS_WEIGHTINGS else AGGREGATORS)
    expected |= STOCHASTIC_ONLY if name in STOCHASTIC else set()
    assert expected <= called, f"{path.name} does not call {sorted(expected - called)}"
