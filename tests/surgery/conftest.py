"""Fixtures of the surgery tests: one intra-op thread, and torchjd's aggregators for the comparisons with torchjd."""

from __future__ import annotations

from types import ModuleType

import pytest
import torch


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
