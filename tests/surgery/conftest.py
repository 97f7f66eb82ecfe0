"""Fixtures of the surgery tests: one intra-op thread, and torchjd's aggregators for the comparisons with torchjd;
the invalid-options property of tests/surgery/properties.py parametrised by each method's ``INVALID_OPTIONS``."""

from __future__ import annotations

from types import ModuleType

import pytest
import torch

from tests.surgery.properties import MethodProperties

INVALID_OPTIONS_TEST = MethodProperties.test_invalid_options_are_errors.__name__


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The surgery tests work on tiny tensors: one intra-op thread avoids OpenMP start-up costs, which on a
    busy 2-core machine dominate (a 5x5 ``tril`` can take 15 ms with two threads). The suite's xdist workers
    already run with one thread (tests/conftest.py); this makes ``-n 0`` runs do the same."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def torchjd() -> ModuleType:
    """``torchjd.aggregation``; the test skips where torchjd is not installed."""
    return pytest.importorskip("torchjd.aggregation")


def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> list | None:
    """A property class with an empty ``INVALID_OPTIONS`` (no invalid options listed for its method) collects no
    invalid-options test, rather than one skipped for an empty parameter set."""
    if (name == INVALID_OPTIONS_TEST and isinstance(collector, pytest.Class)
            and issubclass(collector.obj, MethodProperties) and not collector.obj.INVALID_OPTIONS):
        return []
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``test_invalid_options_are_errors`` of a property class: one case per ``(options, match)`` of its
    ``INVALID_OPTIONS``, named by the options it sets (``[c=-1.0]``, ``[rescale=3]``)."""
    if metafunc.cls is not None and issubclass(metafunc.cls, MethodProperties) \
            and metafunc.function.__name__ == INVALID_OPTIONS_TEST:
        cases = metafunc.cls.INVALID_OPTIONS
        ids = [",".join(f"{key}={value}" for key, value in options.items()) for options, _ in cases]
        metafunc.parametrize("options,match", cases, ids=ids)
