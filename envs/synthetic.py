"""A tiny synthetic multi-task benchmark with genuinely conflicting tasks: a 2-D point mass, one goal per task.

Every task shares the arena and the dynamics; only the goal differs. The ``T`` goals sit evenly spaced on a circle of
radius ``goal_radius`` around the origin, so from the same position different tasks need opposite actions, and
every other task's goal region is a trap. A policy that knows the task solves all of them within a few thousand
steps per task; a policy that ignores it cannot (tests pin both). Everything is batched tensor arithmetic, so it runs
in milliseconds: the benchmark for fast learning tests.

Definitions (``p`` position, ``a`` action, ``g_k`` the goal of task ``k``, ``d = |p' - g_task|``):

* arena ``[-1, 1]^2``; action space ``[-1, 1]^2``; observation: the position ``p`` (2 numbers, float32).
* dynamics: ``p' = clip(p + step_size * a / max(1, |a|), -1, 1)``; the action is scaled back onto the unit disk,
  so the speed limit is ``step_size`` in every direction. Trap: if ``p`` is within ``success_radius`` of another
  task's goal, the point stays where it is (``p' = p``) for the rest of the episode.
* reward, in ``[0, reward_scale]`` (``reward_scale = 10``: Meta-World v2's range):
  ``reward_scale / (1 + (max(d - success_radius, 0) / reward_margin)^2)``, Meta-World's long-tail tolerance
  shaping: the maximum inside the success region, 7-41% of it at the starts, smooth in between.
* success: ``d <= success_radius``.
* episodes: ``episode_steps`` steps, truncation only (``terminated`` is always False).
* goal index: each task has ``num_goals`` (50) fixed initial positions, drawn once from the seed, uniform in a disk
  of radius ``start_radius`` around the origin (what Meta-World's 50 fixed goal settings are to a task).

Why no task-agnostic policy succeeds on more than ``1/T`` of the episodes (in expectation): the tasks share starting
distribution and dynamics up to the first time the point enters some goal's region; that goal's task succeeds, and
for every other task the point is trapped there, so from any start at most one task succeeds. (Without the trap, a
policy touring all goals would succeed on every task: 50 steps of 0.1 cover the circle.)

Why the reward scale is 10 rather than 1: SAC's temperature starts at 1, and with rewards in ``[0, 1]`` the entropy
bonus drowns the task reward for the first thousands of updates. Measured with a minimal multi-task SAC (64x64,
per-task heads, batch 64, temperature learning rate 3e-4), 4 seeds, 4000 steps per task: 66-92% success with
rewards in ``[0, 1]``, 100% on every seed with ``[0, 10]``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from envs._checks import check_goal_indices, check_identity, check_mask
from envs.base import EnvInfo, MultiTaskVectorEnv, StepResult

NUM_GOALS = 50  # fixed initial positions per task, like Meta-World's 50 goal settings
OBS_DIM = 2
ACTION_DIM = 2


@dataclass(frozen=True)
class PointMassParams:
    """The synthetic benchmark's constants (see the module docstring for the definitions)."""

    num_tasks: int = 4  # number of tasks = goals on the circle
    episode_steps: int = 50  # steps per episode (truncation)
    goal_radius: float = 0.7  # distance of the goals from the origin
    step_size: float = 0.1  # largest displacement per step
    success_radius: float = 0.1  # success when this close to the goal
    start_radius: float = 0.3  # initial positions lie in a disk of this radius around the origin
    reward_margin: float = 0.25  # distance beyond the success region where the reward has fallen to half
    reward_scale: float = 10.0  # the reward's maximum (10: Meta-World v2's scale)
    num_goals: int = NUM_GOALS  # fixed initial positions per task


def task_names(num_tasks: int) -> list[str]:
    """The synthetic tasks' names, ``point-mass-goal-<k>``."""
    return [f"point-mass-goal-{k}" for k in range(num_tasks)]


def task_goals(params: PointMassParams) -> Tensor:
    """``(T, 2)`` float32: goal ``k`` at angle ``2 pi k / T`` on the circle of radius ``goal_radius``."""
    angles = torch.arange(params.num_tasks, dtype=torch.float64) * (2.0 * math.pi / params.num_tasks)
    return (params.goal_radius * torch.stack([angles.cos(), angles.sin()], dim=-1)).float()


def start_positions(params: PointMassParams, seed: int) -> Tensor:
    """``(T, num_goals, 2)`` float32: every task's fixed initial positions, uniform in the start disk, drawn from
    ``seed`` alone (the same on every device)."""
    generator = torch.Generator().manual_seed(_derive_seed(seed, "start-positions"))
    shape = (params.num_tasks, params.num_goals)
    radius = params.start_radius * torch.rand(shape, generator=generator, dtype=torch.float64).sqrt()
    angle = 2.0 * math.pi * torch.rand(shape, generator=generator, dtype=torch.float64)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=-1).float()


def point_mass_step(position: Tensor, action: Tensor, task_index: Tensor, goals: Tensor,
                    params: PointMassParams) -> tuple[Tensor, Tensor, Tensor]:
    """The dynamics, reward and success of the point mass; every shape broadcasts, so one call steps any batch.

    Args:
        position: ``(..., 2)`` float32 in ``[-1, 1]^2``.
        action: ``(..., 2)``; clipped to ``[-1, 1]^2``, then scaled back onto the unit disk.
        task_index: ``(...)`` long, the task of each point (which goal is its own).
        goals: ``(T, 2)`` every task's goal.
        params: the benchmark's constants.

    Returns:
        next position ``(..., 2)``, reward ``(...)`` float32 in ``[0, reward_scale]``, success ``(...)`` bool.
    """
    in_goal = torch.linalg.vector_norm(position.unsqueeze(-2) - goals, dim=-1) <= params.success_radius  # (..., T)
    own = torch.nn.functional.one_hot(task_index, goals.shape[0]).bool()
    trapped = (in_goal & ~own).any(dim=-1, keepdim=True)  # in another task's goal region: the point stays there
    action = action.clamp(-1.0, 1.0)
    speed = torch.linalg.vector_norm(action, dim=-1, keepdim=True).clamp(min=1.0)
    moved = (position + params.step_size * action / speed).clamp(-1.0, 1.0)
    next_position = torch.where(trapped, position, moved)
    distance = torch.linalg.vector_norm(next_position - goals[task_index], dim=-1)
    excess = (distance - params.success_radius).clamp(min=0.0) / params.reward_margin
    reward = params.reward_scale / (1.0 + excess.square())
    return next_position, reward, distance <= params.success_radius


def _derive_seed(seed: int, purpose: str) -> int:
    """A 63-bit seed for one purpose, independent of the others drawn from the same run seed."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    digest = hashlib.sha256(f"{purpose}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class SyntheticMultiTaskEnv(MultiTaskVectorEnv):
    """``T`` point-mass tasks with ``E`` copies each, all stepped in one batched tensor operation on ``device``.

    Args:
        num_tasks: ``T``.
        envs_per_task: ``E``.
        seed: draws the fixed initial positions and seeds the goal-choice generator.
        device: where positions, observations and results live.
        **params: any other :class:`PointMassParams` field (``episode_steps``, ``step_size``, ...).
    """

    def __init__(self, num_tasks: int = 4, envs_per_task: int = 1, *, seed: int = 0,
                 device: torch.device | str = "cpu", **params: Any) -> None:
        self.params = PointMassParams(num_tasks=num_tasks, **params)
        if num_tasks < 1 or envs_per_task < 1 or self.params.episode_steps < 1:
            raise ValueError("num_tasks, envs_per_task and episode_steps must be >= 1")
        self.seed = seed
        self.device = torch.device(device)
        self.info = EnvInfo(
            benchmark="synthetic", task_names=task_names(num_tasks), envs_per_task=envs_per_task,
            obs_dim=OBS_DIM, action_dim=ACTION_DIM, max_episode_steps=self.params.episode_steps,
            num_goals=self.params.num_goals, backend="synthetic",
            extra={k: v for k, v in asdict(self.params).items()
                   if k not in ("num_tasks", "episode_steps", "num_goals")},  # those have EnvInfo fields
        )
        T, E = num_tasks, envs_per_task
        self.goals = task_goals(self.params).to(self.device)  # (T, 2)
        self.starts = start_positions(self.params, seed).to(self.device)  # (T, G, 2)
        self.task_index = torch.arange(T, device=self.device).unsqueeze(1).expand(T, E)  # (T, E)
        # the goal-choice generator lives on the CPU: the same draws on every device
        self._rng = torch.Generator().manual_seed(_derive_seed(seed, "goal-choice"))
        self.position = torch.zeros(T, E, OBS_DIM, device=self.device)
        self.elapsed = torch.zeros(T, E, dtype=torch.long, device=self.device)
        self.goal_index = torch.zeros(T, E, dtype=torch.long, device=self.device)
        self._ended = torch.ones(T, E, dtype=torch.bool, device=self.device)  # must be reset before stepping

    def reset(self, mask: Tensor | None = None, goal_indices: Tensor | None = None) -> Tensor:
        """Reset the masked sub-envs (all if ``mask`` is None) to goal ``goal_indices`` (random if None).

        Args:
            mask: ``(T, E)`` bool or None.
            goal_indices: ``(T, E)`` long in ``[0, 50)`` or None.

        Returns:
            ``(T, E, 2)`` float32: every sub-env's position.
        """
        shape = (self.num_tasks, self.envs_per_task)
        if goal_indices is None:
            # one draw per sub-env on every call, so the stream does not depend on the mask
            goal_indices = torch.randint(self.params.num_goals, shape, generator=self._rng)
        goal_indices = check_goal_indices(goal_indices, shape, self.params.num_goals).to(self.device)
        mask = torch.ones(shape, dtype=torch.bool, device=self.device) if mask is None else \
            check_mask(mask, shape).to(self.device)
        start = torch.gather(self.starts, 1, goal_indices.unsqueeze(-1).expand(*shape, OBS_DIM))
        self.position = torch.where(mask.unsqueeze(-1), start, self.position)
        self.goal_index = torch.where(mask, goal_indices, self.goal_index)
        self.elapsed = torch.where(mask, 0, self.elapsed)
        self._ended = self._ended & ~mask
        return self.position.clone()

    def step(self, actions: Tensor) -> StepResult:
        """Step every sub-env with ``actions`` ``(T, E, 2)`` (scaled onto the unit disk).

        Raises:
            RuntimeError: a sub-env whose episode ended (or that was never reset) is stepped.
        """
        expected = (self.num_tasks, self.envs_per_task, ACTION_DIM)
        if tuple(actions.shape) != expected:
            raise ValueError(f"actions must have shape {expected}, got {tuple(actions.shape)}")
        if bool(self._ended.any()):
            raise RuntimeError("step() on a sub-env whose episode ended: reset it first (there is no autoreset)")
        actions = actions.to(device=self.device, dtype=torch.float32)
        self.position, reward, success = point_mass_step(self.position, actions, self.task_index, self.goals,
                                                         self.params)
        self.elapsed = self.elapsed + 1
        truncated = self.elapsed >= self.params.episode_steps
        self._ended = truncated
        return StepResult(obs=self.position.clone(), reward=reward, terminated=torch.zeros_like(truncated),
                          truncated=truncated, success=success)

    def _identity(self) -> dict[str, Any]:
        return {"backend": "synthetic", "task_names": self.info.task_names, "envs_per_task": self.envs_per_task,
                "seed": self.seed, "params": asdict(self.params)}

    def get_state(self) -> dict[str, Any]:
        """The goal-choice generator and every sub-env's position, step count and goal (CPU tensors): restoring it
        continues exactly, at an episode boundary or in the middle of one."""
        return {
            **self._identity(),
            "rng": self._rng.get_state(),
            "position": self.position.detach().cpu().clone(),
            "elapsed": self.elapsed.cpu().clone(),
            "goal_index": self.goal_index.cpu().clone(),
            "ended": self._ended.cpu().clone(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s output; ``ValueError`` if it comes from a different env."""
        check_identity(self._identity(), state)
        self._rng.set_state(state["rng"].cpu())  # torch.load(map_location=...) may have moved it
        self.position = state["position"].to(self.device, torch.float32)
        self.elapsed = state["elapsed"].to(self.device, torch.long)
        self.goal_index = state["goal_index"].to(self.device, torch.long)
        self._ended = state["ended"].to(self.device, torch.bool)


class PointMassTaskEnv(gym.Env[np.ndarray, np.ndarray]):
    """One synthetic task as a standard single-task ``gymnasium.Env`` (the same dynamics function as the vector env).

    ``reset(options={"goal_index": i})`` starts from the task's fixed initial position ``i``; without it the index
    is drawn from the env's ``np_random`` (seeded by ``reset(seed=...)``). ``info`` holds ``success``,
    ``distance`` and ``goal_index``.

    Args:
        task_index: which goal, ``0 <= task_index < num_tasks``.
        num_tasks: how many goals share the circle.
        seed: the benchmark seed that draws the fixed initial positions (as for the vector env).
        **params: any other :class:`PointMassParams` field.
    """

    metadata = {"render_modes": []}

    def __init__(self, task_index: int, num_tasks: int = 4, *, seed: int = 0, **params: Any) -> None:
        if not 0 <= task_index < num_tasks:
            raise ValueError(f"task_index must be in [0, {num_tasks}), got {task_index}")
        self.params = PointMassParams(num_tasks=num_tasks, **params)
        self.task_index = task_index
        self.goals = task_goals(self.params)  # (T, 2)
        self.goal = self.goals[task_index]  # (2,)
        self.starts = start_positions(self.params, seed)[task_index]  # (G, 2)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (OBS_DIM,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)
        self.position = self.starts[0].clone()
        self.elapsed = 0
        self.goal_index = 0

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options is not None and "goal_index" in options:
            goal_index = int(options["goal_index"])
            if not 0 <= goal_index < self.params.num_goals:
                raise ValueError(f"goal_index must be in [0, {self.params.num_goals}), got {goal_index}")
        else:
            goal_index = int(self.np_random.integers(self.params.num_goals))
        self.goal_index = goal_index
        self.position = self.starts[goal_index].clone()
        self.elapsed = 0
        return self.position.numpy().copy(), {"goal_index": goal_index}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action_tensor = torch.as_tensor(np.asarray(action, dtype=np.float32))
        self.position, reward, success = point_mass_step(self.position, action_tensor, torch.tensor(self.task_index),
                                                         self.goals, self.params)
        self.elapsed += 1
        truncated = self.elapsed >= self.params.episode_steps
        info = {"success": bool(success), "distance": float(torch.linalg.vector_norm(self.position - self.goal)),
                "goal_index": self.goal_index}
        return self.position.numpy().copy(), float(reward), False, truncated, info

