"""Config fields that declare their meaning and valid values, and the one pass that checks a whole config.

A config dataclass declares every field with :func:`param`::

    gamma: float = param(0.99, "discount factor", range="[0, 1]")
    encoder: str = param("mlp", "shared encoder", choices=lambda: ENCODERS)
    total_steps_per_task: int = param(2_000_000, "training budget", range="[1, inf)", resume=True)

``range`` is an interval (``[`` / ``]`` closed, ``(`` / ``)`` open, ``inf`` unbounded) that a number, or every
element of a list of numbers, must lie in; ``choices`` the valid values (a collection, or a callable returning one
when the valid names live in a registry defined later); ``resume=True`` lets the value change when a run is
resumed (it takes effect from then on). :func:`check_tree` walks a config and its nested sections, checks every
declared range and choice, then calls each section's ``check()`` for rules between fields. Errors are
:class:`FieldError` (a ``ValueError``) whose message starts with the dotted field name.

This module sits in ``envs`` (the lowest layer, which every config section may import) and imports nothing
heavy: no torch, no numpy.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Collection, Iterator
from typing import Any

_UNSET: Any = dataclasses.MISSING
_INTEGER = re.compile(r"\bint\b")  # an ``int`` or ``list[int]`` annotation (a string under PEP 563)


class FieldError(ValueError):
    """An invalid config value; ``field`` is its dotted name, and the message starts with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if not message.startswith(field) else message)
        self.field = field


def param(default: Any = _UNSET, help: str = "", *, factory: Callable[[], Any] | None = None,  # noqa: A002
          range: str | None = None, choices: Collection[Any] | Callable[[], Collection[Any]] | None = None,  # noqa: A002
          resume: bool = False) -> Any:
    """A dataclass field with its meaning (``help``), valid values and resume policy (see the module docstring).
    Give ``default`` or, for mutable defaults, ``factory``."""
    if range is not None:
        Interval.parse(range)  # a malformed interval is the declaring code's bug: fail at import
    metadata = {"help": help, "range": range, "choices": choices, "resume": resume}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Interval:
    """A real interval parsed from ``"[lo, hi)"``-style text."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool

    @staticmethod
    def parse(text: str) -> Interval:
        text = text.strip()
        if len(text) < 5 or text[0] not in "[(" or text[-1] not in "])" or text.count(",") != 1:
            raise ValueError(f"malformed interval {text!r}; expected e.g. '[0, 1]' or '(0, inf)'")
        low, high = (float(part) for part in text[1:-1].split(","))
        return Interval(low, high, text[0] == "[" and math.isfinite(low), text[-1] == "]" and math.isfinite(high))

    def __contains__(self, value: float) -> bool:
        if math.isnan(value):
            return False
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below

    def describe(self) -> str:
        """``>= 1``, ``> 0``, ``<= 5`` for half-bounded intervals, else ``in [0, 1]``."""
        lo, hi = f"{self.low:g}", f"{self.high:g}"
        if math.isinf(self.high):
            return f"{'>=' if self.low_closed else '>'} {lo}"
        if math.isinf(self.low):
            return f"{'<=' if self.high_closed else '<'} {hi}"
        return f"in {'[' if self.low_closed else '('}{lo}, {hi}{']' if self.high_closed else ')'}"


def suggest(name: Any, valid: Collection[Any]) -> str:
    """`` (did you mean 'x'?)`` for the closest valid name (case-insensitive), or the empty string."""
    by_lower = {str(v).lower(): v for v in valid}
    matches = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[matches[0]]!r}?)" if matches else ""


def check_value(name: str, value: Any, metadata: Any, integer: bool = False) -> None:
    """Check one value against its field's declared ``range`` and ``choices`` (``integer``: the field holds
    integers); raise :class:`FieldError`."""
    choices = metadata.get("choices")
    if choices is not None and value is not None:
        valid = list(choices() if callable(choices) else choices)
        if value not in valid:
            raise FieldError(name, f"unknown {name.rsplit('.', 1)[-1]} {value!r}{suggest(value, valid)}; "
                                   f"valid: {', '.join(map(str, valid))}")
    if metadata.get("range") is not None and value is not None:
        interval = Interval.parse(metadata["range"])
        kind = (int,) if integer else (int, float)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, bool) or not isinstance(item, kind) or item not in interval:
                what = "an integer " if integer else ""
                raise FieldError(name, f"{name} must be {what}{interval.describe()}, got {value!r}")


def declared_fields(obj: Any) -> Iterator[tuple[dataclasses.Field, Any]]:
    """``(field, value)`` of every dataclass field of ``obj``."""
    for f in dataclasses.fields(obj):
        yield f, getattr(obj, f.name)


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check ``obj``'s own declared ranges and choices (not nested sections)."""
    for f, value in declared_fields(obj):
        if not dataclasses.is_dataclass(value):
            check_value(prefix + f.name, value, f.metadata, integer=_INTEGER.search(str(f.type)) is not None)


def check_tree(obj: Any, prefix: str = "") -> None:
    """The validation pass: every declared range and choice of ``obj`` and its nested sections, each section's
    ``check()`` (rules between fields) after its fields. Raises :class:`FieldError` naming the dotted field; a
    plain ``ValueError`` from a ``check()`` is re-raised as a :class:`FieldError` naming the section."""
    check_fields(obj, prefix)
    for f, value in declared_fields(obj):
        if dataclasses.is_dataclass(value):
            check_tree(value, f"{prefix}{f.name}.")
    check = getattr(obj, "check", None)
    if check is not None:
        try:
            check()
        except FieldError as err:
            raise FieldError(prefix + err.field, prefix + str(err)) from err
        except ValueError as err:
            section = prefix.rstrip(".") or type(obj).__name__
            raise FieldError(section, f"{section}: {err}") from err


def resume_changes(recorded: Any, edited: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any, bool]]:
    """``(dotted name, recorded value, edited value, allowed)`` for every field whose value differs between two
    configs of the same schema; ``allowed`` is the field's ``resume`` flag."""
    for f, old in declared_fields(recorded):
        new = getattr(edited, f.name)
        if dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
            yield from resume_changes(old, new, f"{prefix}{f.name}.")
        elif old != new:
            yield prefix + f.name, old, new, bool(f.metadata.get("resume", False))
