"""Wall-clock timing of agent updates, shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from mtrl.agents.sac import MTSAC
from mtrl.replay import TaskReplayBuffer


def seconds_per_call(fn: Callable[[], object], iters: int, device: torch.device) -> float:
    """Seconds per ``fn()``, averaged over ``iters`` calls (CUDA work is synchronised before the clock starts and
    stops)."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    sync()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    sync()
    return (time.perf_counter() - start) / iters


def time_updates(agent: MTSAC, buffer: TaskReplayBuffer, batch: int, iters: int, device: torch.device) -> float:
    """Seconds per ``agent.update`` on fresh ``(T, batch)`` samples, averaged over ``iters`` updates."""
    return seconds_per_call(lambda: agent.update(buffer.sample(batch)), iters, device)
