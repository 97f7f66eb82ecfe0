"""What the agent benchmarks share: Meta-World's sizes, a replay buffer of random transitions, an update case."""

from __future__ import annotations

import torch

from mtrl.agents.sac import MTSAC
from mtrl.bench.harness import Case
from mtrl.replay import TaskReplayBuffer

OBS_DIM, ACTION_DIM = 39, 4  # Meta-World


def random_replay(num_tasks: int, size: int, device: torch.device) -> TaskReplayBuffer:
    """A ``(T, size)`` replay buffer full of random transitions (draws from torch's global generator)."""
    buffer = TaskReplayBuffer(num_tasks, size, OBS_DIM, ACTION_DIM, device)
    buffer.add(torch.randn(num_tasks, size, OBS_DIM), torch.rand(num_tasks, size, ACTION_DIM) * 2 - 1,
               torch.rand(num_tasks, size), torch.randn(num_tasks, size, OBS_DIM), torch.zeros(num_tasks, size))
    return buffer


def update_case(name: str, agent: MTSAC, buffer: TaskReplayBuffer, batch: int, iters: int | None = None) -> Case:
    """One ``agent.update`` on a fresh ``(T, batch)`` sample of ``buffer`` per call."""
    return Case.of_call(name, lambda: agent.update(buffer.sample(batch)), iters=iters)
