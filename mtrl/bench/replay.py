"""``mtrl bench replay``: replay sampling, mtrl's packed rows against one tensor per field, as a ratio in the same run.

mtrl's :class:`~mtrl.replay.TaskReplayBuffer` keeps a transition's fields side by side in one row of a
``(T, capacity, F)`` tensor, so a task-stratified sample is a single ``index_select`` of rows. The baseline here is
the common layout (and mtrl's before it): five tensors, ``obs``, ``action``, ``reward``, ``next_obs`` and
``terminated``, each gathered with advanced indexing ``field[rows, idx]``. Both buffers hold the same random data
and draw the same indices; the script checks that the batches are equal, then times ``sample`` in interleaved
rounds and reports the medians and the ratio packed / per-field. Sizes: Meta-World's 39 observation and 4 action
numbers; ``T=1`` with SB3's batch of 256 and a 1M buffer, MT10 and MT50 with the configs' capacities and batch 128
per task. On a GPU the clock synchronises around each timing round.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from functools import partial

import torch

from mtrl.bench.fixtures import ACTION_DIM, OBS_DIM
from mtrl.bench.harness import Case, Column, emit_json, emit_table, paired_ratios, time_interleaved
from mtrl.replay import Batch, TaskReplayBuffer

FIELDS = [f.name for f in dataclasses.fields(Batch)]  # obs, action, reward, next_obs, terminated
#: (tasks, capacity per task, batch per task): SB3-sized single task, configs/mt10_mtsac.yaml, configs/mt50_mtsac.yaml
SIZES = ((1, 1_000_000, 256), (10, 200_000, 128), (50, 100_000, 128))
COLUMNS = (Column("T", 3), Column("capacity", 10, ","), Column("batch", 6), Column("per-field us", 13, ".1f"),
           Column("packed us", 10, ".1f"), Column("x per-field", 12, ".2f"))


class FieldwiseBuffer:
    """The baseline: one ``(T, capacity, ...)`` tensor per field, sampled by advanced indexing."""

    def __init__(self, packed: TaskReplayBuffer) -> None:
        self.size = packed.size
        self.num_tasks = packed.num_tasks
        self.fields = [getattr(packed, name).contiguous() for name in FIELDS]

    def sample(self, batch_size_per_task: int) -> Batch:
        device = self.fields[0].device
        idx = torch.randint(0, self.size, (self.num_tasks, batch_size_per_task), device=device)
        rows = torch.arange(self.num_tasks, device=device)[:, None]
        return Batch(*(f[rows, idx] for f in self.fields))


def filled_buffer(T: int, capacity: int, device: torch.device) -> TaskReplayBuffer:
    buffer = TaskReplayBuffer(T, capacity, OBS_DIM, ACTION_DIM, device)
    chunk = min(capacity, 50_000)
    for _ in range(capacity // chunk):
        buffer.add(torch.randn(T, chunk, OBS_DIM), torch.rand(T, chunk, ACTION_DIM) * 2 - 1, torch.rand(T, chunk),
                   torch.randn(T, chunk, OBS_DIM), (torch.rand(T, chunk) < 0.01).float())
    return buffer


def same_batches(a: Batch, b: Batch) -> bool:
    return all(torch.equal(getattr(a, name), getattr(b, name)) for name in FIELDS)


def run(sizes: Sequence[tuple[int, int, int]] = SIZES, iters: int = 100, rounds: int = 9, device: str = "cpu",
        emit: Callable[[str], None] = print) -> list[dict]:
    """Time both layouts for each ``(T, capacity, batch)``; prints a table and one JSON line per size through
    ``emit``. The layouts take turns in ``rounds`` rounds of ``iters`` samples (after one warm-up sample); the
    ratio is the median of the per-round ratios."""
    torch_device = torch.device(device)
    rows: list[dict] = []
    for T, capacity, batch in sizes:
        torch.manual_seed(0)
        packed = filled_buffer(T, capacity, torch_device)
        fieldwise = FieldwiseBuffer(packed)
        torch.manual_seed(1)
        a = packed.sample(batch)
        torch.manual_seed(1)
        if not same_batches(a, fieldwise.sample(batch)):
            raise RuntimeError(f"the layouts sampled different batches at T={T}")
        timings = time_interleaved([Case.of_call("per-field", partial(fieldwise.sample, batch)),
                                    Case.of_call("packed", partial(packed.sample, batch))], iters, rounds)
        rows.append({"bench": "replay-sample", "num_tasks": T, "capacity_per_task": capacity, "batch_per_task": batch,
                     "per_field_us": 1e6 * timings["per-field"].median, "packed_us": 1e6 * timings["packed"].median,
                     "x_per_field": statistics.median(paired_ratios(timings["packed"], timings["per-field"])),
                     "device": str(torch_device)})
    emit(f"replay sampling, {torch_device} (median of {rounds} rounds x {iters} samples)")
    emit_table(emit, COLUMNS, [(r["num_tasks"], r["capacity_per_task"], r["batch_per_task"], r["per_field_us"],
                                r["packed_us"], r["x_per_field"]) for r in rows])
    emit_json(emit, rows)
    return rows
