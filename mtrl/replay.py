"""Task-stratified replay storage on the learner's device.

Storage is shaped by task, ``(T, capacity, ...)``, so every sampled batch holds exactly ``batch_size_per_task``
transitions of every task and per-task losses always exist. Adding and sampling are pure tensor ops on the
device (no host round-trips); sampling draws from the global torch RNG, which checkpoints save and restore.

A transition's fields lie side by side in one row of a single ``(T, capacity, F)`` tensor (``F = 2 obs_dim +
action_dim + 2``), so a sample is one row gather (``index_select``) instead of one advanced-indexing gather per
field: on the CPU 3-7x faster than five separate gathers (``mtrl bench replay``), and on a GPU one kernel
instead of five. The fields (``obs``, ``action``, ...) are views of that tensor, and so are a batch's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass
class Batch:
    """A task-stratified batch; every field has a leading ``(T, B)``. From :meth:`TaskReplayBuffer.sample` the
    fields are views of one gathered ``(T, B, F)`` tensor (not contiguous; ``reshape``, not ``view``).

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

    def __init__(
        self, num_tasks: int, capacity_per_task: int, obs_dim: int, action_dim: int, device: torch.device | str
    ) -> None:
        if capacity_per_task < 1:
            raise ValueError(f"capacity_per_task must be >= 1, got {capacity_per_task}")
        self.num_tasks = num_tasks
        self.capacity = capacity_per_task
        self.device = torch.device(device)
        T, C = num_tasks, capacity_per_task
        #: the fields in row order with their feature widths (None: one number per transition, no feature axis)
        self._widths: dict[str, int | None] = {"obs": obs_dim, "action": action_dim, "reward": None,
                                               "next_obs": obs_dim, "terminated": None}
        #: every transition as one row ``[obs | action | reward | next_obs | terminated]``
        self._rows = torch.zeros(T, C, sum(w or 1 for w in self._widths.values()), device=self.device)
        self._row_offsets = (torch.arange(T, device=self.device) * C)[:, None]  # task t's rows start at t * C
        (self.obs, self.action, self.reward, self.next_obs, self.terminated) = self._split(self._rows)
        # host-side counters: every task receives the same number of transitions per step, so one pointer serves
        self.pos = 0
        self.size = 0

    def _split(self, rows: Tensor) -> tuple[Tensor, ...]:
        """The five field views of ``rows (..., F)``: obs, action, reward, next_obs, terminated."""
        parts = rows.split([w or 1 for w in self._widths.values()], dim=-1)
        return tuple(p.squeeze(-1) if w is None else p for p, w in zip(parts, self._widths.values(), strict=True))

    def __len__(self) -> int:
        """Transitions stored per task."""
        return self.size

    def add(self, obs: Tensor, action: Tensor, reward: Tensor, next_obs: Tensor, terminated: Tensor) -> None:
        """Store ``E`` transitions of every task; arguments are ``(T, E, ...)`` (``reward``/``terminated``:
        ``(T, E)``)."""
        n = obs.shape[1]
        if n > self.capacity:
            raise ValueError(f"adding {n} transitions per task exceeds capacity {self.capacity}")
        given = {"obs": obs, "action": action, "reward": reward, "next_obs": next_obs, "terminated": terminated}
        parts = []
        for name, width in self._widths.items():
            shape = (self.num_tasks, n) if width is None else (self.num_tasks, n, width)
            if tuple(given[name].shape) != shape:
                raise ValueError(f"replay add: {name} has shape {tuple(given[name].shape)}, expected {shape}")
            parts.append(given[name].to(self.device, torch.float32).reshape(self.num_tasks, n, width or 1))
        idx = (torch.arange(n, device=self.device) + self.pos) % self.capacity
        self._rows[:, idx] = torch.cat(parts, dim=-1)
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size_per_task: int, generator: torch.Generator | None = None) -> Batch:
        """``batch_size_per_task`` transitions of every task, uniformly with replacement within each task."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        idx = torch.randint(
            0, self.size, (self.num_tasks, batch_size_per_task), device=self.device, generator=generator
        )
        flat = self._rows.view(-1, self._rows.shape[-1])  # (T * C, F)
        rows = flat.index_select(0, (idx + self._row_offsets).view(-1)).view(*idx.shape, -1)  # (T, B, F)
        return Batch(*self._split(rows))

    def state_dict(self) -> dict[str, Any]:
        """The stored transitions (only the filled part) and the pointers."""
        state: dict[str, Any] = {"pos": self.pos, "size": self.size, "capacity": self.capacity}
        for name in self._widths:
            state[name] = getattr(self, name)[:, : self.size].clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["capacity"] != self.capacity:
            raise ValueError(
                f"replay buffer capacity mismatch: checkpoint has {state['capacity']}, config has {self.capacity}"
            )
        size = state["size"]
        for name in self._widths:
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
