"""Replay sampling: mtrl's packed rows against one tensor per field, as a ratio in the same run.

mtrl's :class:`~mtrl.replay.TaskReplayBuffer` keeps a transition's fields side by side in one row of a
``(T, capacity, F)`` tensor, so a task-stratified sample is a single ``index_select`` of rows. The baseline here is
the common layout (and mtrl's before it): five tensors, ``obs``, ``action``, ``reward``, ``next_obs`` and
``terminated``, each gathered with advanced indexing ``field[rows, idx]``. Both buffers hold the same random data
and draw the same indices; the script checks that the batches are equal, then times ``sample`` in interleaved
rounds and reports the medians and the ratio packed / per-field. Sizes: Meta-World's 39 observation and 4 action
numbers; ``T=1`` with SB3's batch of 256 and a 1M buffer, MT10 and MT50 with the configs' capacities and batch 128
per task.

    python scripts/bench_replay.py                  # CPU
    python scripts/bench_replay.py --device cuda    # GPU (synchronised around each timing round)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from collections.abc import Callable, Sequence

import torch

from mtrl.bench.timing import seconds_per_call
from mtrl.replay import Batch, TaskReplayBuffer

OBS_DIM, ACTION_DIM = 39, 4  # Meta-World
FIELDS = [f.name for f in dataclasses.fields(Batch)]  # obs, action, reward, next_obs, terminated
#: (tasks, capacity per task, batch per task): SB3-sized single task, configs/mt10_mtsac.yaml, configs/mt50_mtsac.yaml
SIZES = ((1, 1_000_000, 256), (10, 200_000, 128), (50, 100_000, 128))


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


def time_layouts(samplers: dict[str, Callable[[int], Batch]], batch: int, iters: int, rounds: int,
                 device: torch.device) -> dict[str, list[float]]:
    """Seconds per ``sample(batch)`` of each sampler, one figure per interleaved round."""
    times: dict[str, list[float]] = {name: [] for name in samplers}
    for _ in range(rounds):
        for name, sample in samplers.items():
            times[name].append(seconds_per_call(lambda sample=sample: sample(batch), iters, device))
    return times


def run(sizes: Sequence[tuple[int, int, int]] = SIZES, iters: int = 100, rounds: int = 9,
        device: str = "cpu") -> list[dict]:
    """Time both layouts for each ``(T, capacity, batch)``; prints a table and one JSON line per size."""
    torch_device = torch.device(device)
    rows: list[dict] = []
    print(f"replay sampling, {torch_device} (median of {rounds} rounds x {iters} samples)")
    print(f"{'T':>3} {'capacity':>10} {'batch':>6} {'per-field us':>13} {'packed us':>10} {'x per-field':>12}")
    for T, capacity, batch in sizes:
        torch.manual_seed(0)
        packed = filled_buffer(T, capacity, torch_device)
        fieldwise = FieldwiseBuffer(packed)
        torch.manual_seed(1)
        a = packed.sample(batch)
        torch.manual_seed(1)
        if not same_batches(a, fieldwise.sample(batch)):
            raise RuntimeError(f"the layouts sampled different batches at T={T}")
        times = time_layouts({"per-field": fieldwise.sample, "packed": packed.sample}, batch, iters, rounds,
                             torch_device)
        ratios = [p / f for p, f in zip(times["packed"], times["per-field"], strict=True)]
        row = {"bench": "replay-sample", "num_tasks": T, "capacity_per_task": capacity, "batch_per_task": batch,
               "per_field_us": 1e6 * statistics.median(times["per-field"]),
               "packed_us": 1e6 * statistics.median(times["packed"]), "x_per_field": statistics.median(ratios),
               "device": str(torch_device)}
        rows.append(row)
        print(f"{T:>3} {capacity:>10,} {batch:>6} {row['per_field_us']:13.1f} {row['packed_us']:10.1f} "
              f"{row['x_per_field']:12.2f}")
    for row in rows:
        print(json.dumps(row))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=100, help="samples per timing round")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved timing rounds (the median is reported)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    args = parser.parse_args(argv)
    run(SIZES, args.iters, args.rounds, args.device)


if __name__ == "__main__":
    main()
