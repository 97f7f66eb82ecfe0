"""The interface every multi-task environment backend implements.

All arrays are torch tensors shaped by task: ``(T, E, ...)`` where ``T`` is the number of tasks and ``E`` the
number of environment copies per task. They live on the learner's device. There is no autoreset: after an
episode ends (``terminated | truncated``) the caller resets those sub-environments with a mask. This keeps
episode boundaries explicit, which is what makes checkpoints and the evaluation protocol exact.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class StepResult:
    """What one vectorized step returns.

    Attributes:
        obs: ``(T, E, obs_dim)`` float32, the observation reached by the step (the final observation of an
            episode that just ended; it is not replaced by a reset observation).
        reward: ``(T, E)`` float32.
        terminated: ``(T, E)`` bool, a true terminal state (no bootstrapping from it).
        truncated: ``(T, E)`` bool, the time limit was hit (bootstrapping continues).
        success: ``(T, E)`` bool, the task's success flag at this step.
    """

    obs: torch.Tensor
    reward: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    success: torch.Tensor

    @property
    def done(self) -> torch.Tensor:
        """``(T, E)`` bool: the episode ended at this step."""
        return self.terminated | self.truncated


@dataclass
class EnvInfo:
    """Static facts about a multi-task env, recorded in every run directory."""

    benchmark: str
    task_names: list[str]
    envs_per_task: int
    obs_dim: int
    action_dim: int
    max_episode_steps: int
    num_goals: int
    backend: str
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. reward_function_version

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)


class MultiTaskVectorEnv(abc.ABC):
    """A batch of ``T x E`` environments, ``E`` copies of each of ``T`` tasks.

    Actions are in ``[-1, 1]^action_dim``. Each task has ``info.num_goals`` fixed goal settings (for Meta-World
    the 50 goals sampled at construction from the seed); ``reset`` draws one at random from the env's own
    seeded RNG unless ``goal_indices`` picks them (the evaluation protocol runs each goal once).
    """

    info: EnvInfo
    device: torch.device

    @property
    def num_tasks(self) -> int:
        return self.info.num_tasks

    @property
    def envs_per_task(self) -> int:
        return self.info.envs_per_task

    @abc.abstractmethod
    def reset(
        self, mask: torch.Tensor | None = None, goal_indices: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Reset all sub-envs (``mask=None``) or those where ``mask`` ``(T, E)`` is True.

        Args:
            mask: ``(T, E)`` bool or None.
            goal_indices: ``(T, E)`` long in ``[0, num_goals)``, the goal each reset sub-env takes; None draws
                goals at random from the env's RNG.

        Returns:
            ``(T, E, obs_dim)`` float32: the current observation of every sub-env (fresh ones where reset).
        """

    @abc.abstractmethod
    def step(self, actions: torch.Tensor) -> StepResult:
        """Step every sub-env with ``actions`` ``(T, E, action_dim)``; sub-envs whose episode ended must be
        reset before they are stepped again."""

    def step_async(self, actions: torch.Tensor) -> None:
        """Start :meth:`step` with ``actions``; :meth:`step_wait` returns its result. Backends whose envs run in
        worker processes override both so that the caller can compute (e.g. gradient updates) meanwhile; the
        default runs the step here (nothing overlaps)."""
        self._pending_step = self.step(actions)

    def step_wait(self) -> StepResult:
        """The result of the step started by :meth:`step_async`."""
        result = getattr(self, "_pending_step", None)
        if result is None:
            raise RuntimeError("step_wait() without a step_async() before it")
        self._pending_step = None
        return result

    @abc.abstractmethod
    def get_state(self) -> dict[str, Any]:
        """The RNG state of every sub-env (picklable). Taken at an episode boundary, before the reset, it lets a
        resumed run reproduce the same episodes."""

    @abc.abstractmethod
    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what ``get_state`` returned. Raises ``ValueError`` if it belongs to a different env."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release worker processes and simulators."""

    def __enter__(self) -> MultiTaskVectorEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
