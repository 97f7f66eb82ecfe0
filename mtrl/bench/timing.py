"""Wall-clock timing of agent updates, shared by the benchmarks."""

from __future__ import annotations

import time

import torch

from mtrl.agents.sac import MTSAC
from mtrl.replay import TaskReplayBuffer


def time_updates(agent: MTSAC, buffer: TaskReplayBuffer, batch: int, iters: int, device: torch.device) -> float:
    """Seconds per ``agent.update`` on fresh ``(T, batch)`` samples, averaged over ``iters`` updates (CUDA work is
    synchronised before the clock starts and stops)."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    sync()
    start = time.perf_counter()
    for _ in range(iters):
        agent.update(buffer.sample(batch))
    sync()
    return (time.perf_counter() - start) / iters
