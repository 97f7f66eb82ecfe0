"""When a run logs, evaluates and checkpoints, for the multi-task Trainer and the SB3 arm alike.

Both advance in whole synchronized episodes (one episode of every copy of every task, ``envs_per_task x
max_episode_steps`` steps per task), so the budget and the intervals are rounded up to whole episodes. Step counts
are environment steps per task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mtrl.config import TrainConfig


def whole_episodes(steps: int, episode_steps: int) -> int:
    """``steps`` rounded up to a multiple of ``episode_steps`` (steps per task of one synchronized episode)."""
    return -(-steps // episode_steps) * episode_steps


@dataclass(frozen=True)
class Cadence:
    """Every action happens at the run's last step, and in between once at least its interval has passed since it
    last happened (``eval_every`` 0: evaluate only at the end).

    Args:
        log_every, eval_every, checkpoint_every: the intervals (``train.*`` of the config), steps per task.
    """

    log_every: int
    eval_every: int
    checkpoint_every: int

    @classmethod
    def of(cls, train: TrainConfig) -> Cadence:
        """The cadence of a config's ``train`` section."""
        return cls(train.log_every, train.eval_every, train.checkpoint_every)

    @staticmethod
    def _due(every: int, step: int, last: int, done: bool) -> bool:
        return done or (every > 0 and step - last >= every)

    def log_interval(self, episode_steps: int) -> int:
        """Steps per task between two logs: ``log_every`` in whole episodes of ``episode_steps`` steps per task."""
        return whole_episodes(self.log_every, episode_steps)

    def log_due(self, step: int, last_log: int, done: bool) -> bool:
        return self._due(self.log_every, step, last_log, done)

    def eval_due(self, step: int, last_eval: int, done: bool) -> bool:
        return self._due(self.eval_every, step, last_eval, done)

    def checkpoint_due(self, step: int, last_checkpoint: int, done: bool) -> bool:
        return self._due(self.checkpoint_every, step, last_checkpoint, done)
