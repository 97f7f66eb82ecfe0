"""Training loops: how an algorithm turns environment episodes into updates.

A loop runs one synchronized episode of every sub-env (collect + update) per call and owns the algorithm's
storage (replay buffer or rollout), which checkpoints save. The :class:`~mtrl.train.Trainer` drives it and does
the rest (logging, evaluation, checkpoints) at episode boundaries.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from envs.base import MultiTaskVectorEnv
from mtrl.agents.base import Agent
from mtrl.runs.logger import MetricAccumulator


class EpisodeStats(Protocol):
    """What a loop reports for one episode: ``(T, E)`` tensors."""

    episode_return: torch.Tensor
    ever_success: torch.Tensor


class Loop(Protocol):
    """The interface the trainer drives."""

    agent: Agent

    def run_episode(self, env: MultiTaskVectorEnv, iteration: int, metrics: MetricAccumulator,
                    finite: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Collect one episode of every sub-env, updating the agent as the algorithm does.

        Args:
            env: the training env (reset at the start of the episode by the loop).
            iteration: vector-env steps taken before this episode.
            metrics: accumulator for the agent's training metrics (device tensors).
            finite: ``()`` bool device tensor, and-ed in place with "every loss so far was finite".
        Returns:
            ``(episode_return (T, E), ever_success (T, E), final StepResult.truncated (T, E))``.
        """
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
