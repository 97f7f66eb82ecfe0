"""The one timing harness of every benchmark: interleaved rounds, medians, ratios to a baseline, a table, JSON lines.

A benchmark describes what it times as :class:`Case` objects and hands them to :func:`time_interleaved`: after one
warm-up round (allocations, lazy state, compilation; its wall time is kept), every case runs once per round, the
cases taking turns within a round, so slow drifts of a shared machine hit every case alike. Each timed round is
read with ``torch.utils.benchmark``'s clock, which synchronises the accelerator before reading the time (CUDA work
is finished inside the round it belongs to), with Python's garbage collector off as ``timeit`` does; the rounds of a
case form a ``torch.utils.benchmark.Measurement`` (median, IQR). Ratios are taken against a named baseline case of
the same run (:func:`ratios_to`, or :func:`paired_ratios` round by round), then :func:`emit_table` prints the table
and :func:`emit_json` one JSON line per row.
"""

from __future__ import annotations

import json
import time
import timeit
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.utils.benchmark import Measurement, TaskSpec
from torch.utils.benchmark import timer as synchronised_clock

Emit = Callable[[str], None]


@dataclass
class Case:
    """One thing to time.

    Attributes:
        name: the row's name (and the key of its :class:`Timing`).
        run: ``run(n)`` does ``n`` calls' worth of work (e.g. ``n`` updates); its wall time is what is measured.
        prepare: ``prepare(n)`` runs before every round, untimed (fresh inputs, reset states); optional.
        iters: calls per timed round (``None``: :func:`time_interleaved`'s ``iters``).
        units: measured units per call (e.g. minibatch steps per ``update`` call, sub-envs per vector step):
            the reported times are seconds per unit.
    """

    name: str
    run: Callable[[int], object]
    prepare: Callable[[int], object] | None = None
    iters: int | None = None
    units: int = 1

    @classmethod
    def of_call(cls, name: str, fn: Callable[[], object], **kwargs: Any) -> Case:
        """A case whose one call is ``fn()``."""

        def run(n: int) -> None:
            for _ in range(n):
                fn()

        return cls(name, run, **kwargs)


@dataclass
class Timing:
    """The measured rounds of one case.

    Attributes:
        name: the case's name.
        seconds: seconds per unit, one figure per timed round.
        warmup_s: wall seconds of the warm-up round (where compilation happens).
        iters: calls per timed round; ``units``: units per call.
    """

    name: str
    seconds: list[float] = field(default_factory=list)
    warmup_s: float = 0.0
    iters: int = 1
    units: int = 1

    @property
    def measurement(self) -> Measurement:
        """The rounds as a ``torch.utils.benchmark.Measurement`` (one run per round, ``iters * units`` per run)."""
        per_run = self.iters * self.units
        return Measurement(number_per_run=per_run, raw_times=[s * per_run for s in self.seconds],
                           task_spec=TaskSpec(stmt=self.name, setup="", num_threads=torch.get_num_threads()))

    @property
    def median(self) -> float:
        """Median seconds per unit over the rounds."""
        return self.measurement.median


def seconds_of(fn: Callable[[], object]) -> float:
    """Wall seconds of one ``fn()`` on the synchronising clock (accelerator work included), GC off."""
    return timeit.Timer(fn, timer=synchronised_clock).timeit(1)


def time_interleaved(cases: Sequence[Case], iters: int, rounds: int, warmup_iters: int = 1) -> dict[str, Timing]:
    """Time ``cases`` in ``rounds`` interleaved rounds after one warm-up round of ``warmup_iters`` calls each.

    Returns:
        ``{case.name: Timing}`` in the order of ``cases``.
    """
    timings = {case.name: Timing(case.name, iters=case.iters or iters, units=case.units) for case in cases}
    for case in cases:
        if case.prepare is not None:
            case.prepare(warmup_iters)
        start = time.perf_counter()
        seconds_of(lambda case=case: case.run(warmup_iters))
        timings[case.name].warmup_s = time.perf_counter() - start
    for _ in range(rounds):
        for case in cases:
            timing = timings[case.name]
            if case.prepare is not None:
                case.prepare(timing.iters)
            seconds = seconds_of(lambda case=case, n=timing.iters: case.run(n))
            timing.seconds.append(seconds / (timing.iters * timing.units))
    return timings


def ratios_to(medians: Mapping[str, float], baseline: str) -> dict[str, float]:
    """``{name: median / medians[baseline]}``: < 1 is faster than the baseline for times (slower for rates)."""
    return {name: value / medians[baseline] for name, value in medians.items()}


def paired_ratios(timing: Timing, baseline: Timing) -> list[float]:
    """This case's time over the baseline's, round by round: each ratio saw one machine state, so drift between
    rounds cancels (shared hosts drift by 10-30%)."""
    return [ours / theirs for ours, theirs in zip(timing.seconds, baseline.seconds, strict=True)]


@dataclass(frozen=True)
class Column:
    """A table column: ``header`` and values right-aligned in ``width`` characters (``left``: left-aligned);
    ``fmt`` is the value's format spec after alignment and width (``.2f``, ``,``); ``None`` prints ``-``."""

    header: str
    width: int
    fmt: str = ""
    left: bool = False

    def cell(self, value: Any) -> str:
        align = "<" if self.left else ">"
        if value is None:
            return format("-", f"{align}{self.width}")
        return format(value, f"{align}{self.width}{self.fmt}")

    def head(self) -> str:
        return format(self.header, f"{'<' if self.left else '>'}{self.width}")


def emit_table(emit: Emit, columns: Sequence[Column], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    """Print ``title`` (after a blank line), the header and one line per row of values, one space between columns."""
    if title is not None:
        emit(f"\n{title}")
    emit(" ".join(column.head() for column in columns).rstrip())
    for values in rows:
        emit(" ".join(column.cell(value) for column, value in zip(columns, values, strict=True)))


def json_line(row: Any, bench: str | None = None) -> str:
    """A dataclass row as one JSON object (first key ``bench`` when given)."""
    record = asdict(row) if not isinstance(row, dict) else row
    return json.dumps({"bench": bench, **record} if bench else record)


def emit_json(emit: Emit, rows: Sequence[Any], bench: str | None = None) -> None:
    """One JSON line per row (see :func:`json_line`)."""
    for row in rows:
        emit(json_line(row, bench))
