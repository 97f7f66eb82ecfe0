"""Task-stratified replay storage on the learner's device.

Storage is shaped by task, ``(T, capacity, ...)``, so every sampled batch holds exactly ``batch_size_per_task``
transitions of every task and per-task losses always exist. Adding and sampling are pure tensor ops on the
device (no host round-trips); sampling draws from the global torch RNG, which checkpoints save and restore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass
class Batch:
    """A task-stratified batch; every field has a leading ``(T, B)``.

    Attributes:
        obs: ``(T, B, obs_dim)``
        action: ``(T, B, action_dim)``
        reward: ``(T, B)``
        next_obs: ``(T, B, obs_dim)``
        terminated: ``(T, B)`` float, 1 where ``next_obs`` is terminal (no bootstrap).
    """

    obs: Tensor
    action: Tensor
    reward: Tensor
    next_obs: Tensor
    terminated: Tensor


class TaskReplayBuffer:
    """Ring buffer with one partition per task.

    Args:
        num_tasks: ``T``.
        capacity_per_task: transitions kept per task (oldest overwritten first).
        obs_dim, action_dim: feature sizes.
        device: where the storage lives.
    """

    _FIELDS = ("obs", "action", "reward", "next_obs", "terminated")

    def __init__(
        self, num_tasks: int, capacity_per_task: int, obs_dim: int, action_dim: int, device: torch.device | str
    ) -> None:
        if capacity_per_task < 1:
            raise ValueError(f"capacity_per_task must be >= 1, got {capacity_per_task}")
        self.num_tasks = num_tasks
        self.capacity = capacity_per_task
        self.device = torch.device(device)
        T, C = num_tasks, capacity_per_task
        self.obs = torch.zeros(T, C, obs_dim, device=self.device)
        self.action = torch.zeros(T, C, action_dim, device=self.device)
        self.reward = torch.zeros(T, C, device=self.device)
        self.next_obs = torch.zeros(T, C, obs_dim, device=self.device)
        self.terminated = torch.zeros(T, C, device=self.device)
        # host-side counters: every task receives the same number of transitions per step, so one pointer serves
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        """Transitions stored per task."""
        return self.size

    def add(self, obs: Tensor, action: Tensor, reward: Tensor, next_obs: Tensor, terminated: Tensor) -> None:
        """Store ``E`` transitions of every task; arguments are ``(T, E, ...)`` (``reward``/``terminated``:
        ``(T, E)``)."""
        n = obs.shape[1]
        if n > self.capacity:
            raise ValueError(f"adding {n} transitions per task exceeds capacity {self.capacity}")
        idx = (torch.arange(n, device=self.device) + self.pos) % self.capacity
        self.obs[:, idx] = obs.to(self.device, torch.float32)
        self.action[:, idx] = action.to(self.device, torch.float32)
        self.reward[:, idx] = reward.to(self.device, torch.float32)
        self.next_obs[:, idx] = next_obs.to(self.device, torch.float32)
        self.terminated[:, idx] = terminated.to(self.device, torch.float32)
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size_per_task: int, generator: torch.Generator | None = None) -> Batch:
        """``batch_size_per_task`` transitions of every task, uniformly with replacement within each task."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        idx = torch.randint(
            0, self.size, (self.num_tasks, batch_size_per_task), device=self.device, generator=generator
        )
        rows = torch.arange(self.num_tasks, device=self.device)[:, None]
        return Batch(
            obs=self.obs[rows, idx],
            action=self.action[rows, idx],
            reward=self.reward[rows, idx],
            next_obs=self.next_obs[rows, idx],
            terminated=self.terminated[rows, idx],
        )

    def state_dict(self) -> dict[str, Any]:
        """The stored transitions (only the filled part) and the pointers."""
        state: dict[str, Any] = {"pos": self.pos, "size": self.size, "capacity": self.capacity}
        for name in self._FIELDS:
            state[name] = getattr(self, name)[:, : self.size].clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["capacity"] != self.capacity:
            raise ValueError(
                f"replay buffer capacity mismatch: checkpoint has {state['capacity']}, config has {self.capacity}"
            )
        size = state["size"]
        for name in self._FIELDS:
            stored = state[name]
            target = getattr(self, name)
            if stored.shape[0] != target.shape[0] or stored.shape[2:] != target.shape[2:]:
                raise ValueError(
                    f"replay buffer field {name} has shape {tuple(stored.shape)}, expected "
                    f"({target.shape[0]}, {size}, {', '.join(map(str, target.shape[2:]))})"
                )
            target[:, :size] = stored.to(self.device)
        self.pos = state["pos"]
        self.size = size
