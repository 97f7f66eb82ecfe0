"""``torch.compile`` behind a config switch, with an eager fallback.

Only pure tensor functions are compiled (loss and target computations: no optimizer steps, no counters), so a
compilation that fails half-way leaves nothing half-done: the call is simply repeated eagerly, a warning is
printed once, and every later call runs eagerly. Training never stops because a backend cannot compile.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch


class MaybeCompiled:
    """``fn`` compiled with ``torch.compile`` when ``enabled``, falling back to ``fn`` for good at the first
    failure.

    Args:
        fn: a pure function of tensors (and pytrees of tensors).
        enabled: compile (False: always call ``fn``).
        name: what to call it in the warning.
        **compile_options: passed to ``torch.compile`` (e.g. ``mode="reduce-overhead"``).

    Attributes:
        compiled: True while the compiled version is in use.
        error: the exception that disabled compilation, or None.
    """

    def __init__(self, fn: Callable[..., Any], enabled: bool, name: str, **compile_options: Any) -> None:
        self.fn = fn
        self.name = name
        self.error: BaseException | None = None
        self._compiled = torch.compile(fn, **compile_options) if enabled else None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled is not None:
            try:
                return self._compiled(*args, **kwargs)
            except Exception as err:  # dynamo/inductor raise many types; a genuine bug re-raises eagerly below
                self._compiled = None
                self.error = err
                first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
                warnings.warn(f"torch.compile of {self.name} failed ({type(err).__name__}: {first_line}); "
                              "continuing eagerly", RuntimeWarning, stacklevel=2)
        return self.fn(*args, **kwargs)
