"""The registry and ``make_surgery``: the documented names, the errors for unknown names and options, the
families' inputs, and a test file per method running the property class of its family."""

from __future__ import annotations

import importlib

import pytest
import torch

from mtrl.surgery import SURGERY_METHODS, Surgery, list_methods, make_surgery, method_options
from tests.surgery.asserts import ALL_METHODS
from tests.surgery.properties import properties_of

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
TEST_MODULES = {"config": "test_conflict_free"}


@pytest.mark.parametrize("name", ALL_METHODS)
def test_every_method_has_a_test_file_with_the_property_class_of_its_family(name):
    """A method added to the registry gets ``tests/surgery/test_<name>.py`` defining a collected ``Test...`` class
    that subclasses its family's property class with ``NAME = "<name>"`` (imported to be inspected, not reused)."""
    module_name = f"tests.surgery.{TEST_MODULES.get(name, f'test_{name}')}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        pytest.fail(f"{name}: no test module {module_name}")
    family = properties_of(name)
    classes = [value for key, value in vars(module).items()
               if key.startswith("Test") and isinstance(value, type) and value.__module__ == module.__name__]
    matching = [cls.__name__ for cls in classes if issubclass(cls, family) and cls.NAME == name]
    assert len(matching) == 1, (f"{module_name}: expected one Test... class subclassing {family.__name__} with "
                                f"NAME = {name!r}, found {matching or 'none'}")
