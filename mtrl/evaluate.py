"""The official Meta-World evaluation protocol.

For every task: ``num_episodes`` episodes (50), episode ``i`` on the task's training goal ``i`` (each of the 50
fixed goals once), deterministic actions, full-length episodes; an episode is a success if the success flag was 1
at **any** step. The score of a task is its success rate; the benchmark score is the mean over tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from envs.base import MultiTaskVectorEnv

Policy = Callable[[Tensor], Tensor]  # obs (T, E, obs_dim) -> actions (T, E, action_dim)


#: k of the worst-k success rates reported beside the mean (only those below the number of tasks)
WORST_K = (1, 3, 5, 10)


def worst_k_success(rates: Sequence[float]) -> dict[str, float]:
    """Mean success of the ``k`` worst tasks for each ``k`` in :data:`WORST_K` with ``k < T`` (``rates``: ``T``
    per-task success rates); keys are ``str(k)`` (as in eval.json). The tail-task metric of TOPPO (Li et al.
    2026), which reports it beside the mean."""
    ordered = sorted(rates)
    return {str(k): sum(ordered[:k]) / k for k in WORST_K if k < len(ordered)}


@dataclass
class EvalResult:
    """Evaluation outcome; ``to_json`` gives the ``eval.json`` layout."""

    mean_success: float
    per_task: dict[str, float]  # task name -> success rate
    mean_return: float
    per_task_return: dict[str, float]  # task name -> mean episode return
    episodes_per_task: int
    protocol: dict[str, Any] = field(default_factory=dict)
    step: int | None = None  # env steps per task of the evaluated checkpoint
    checkpoint: str | None = None
    wall_clock_s: float | None = None  # training wall-clock (seconds, all sittings) when the evaluation ran
    worst_k: dict[str, float] = field(default_factory=dict)  # "k" -> mean success of the k worst tasks

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@torch.no_grad()
def evaluate(policy: Policy, env: MultiTaskVectorEnv, num_episodes: int = 50) -> EvalResult:
    """Run the protocol on ``env`` (``E`` eval copies per task run ``E`` goals at a time).

    Args:
        policy: deterministic policy, ``(T, E, obs_dim) -> (T, E, action_dim)``.
        env: the evaluation env (its own instance: training envs are not disturbed).
        num_episodes: episodes per task; episode ``i`` uses goal ``i % num_goals``.
    """
    info = env.info
    T, E = info.num_tasks, info.envs_per_task
    device = env.device
    successes = torch.zeros(T, dtype=torch.long, device=device)
    returns = torch.zeros(T, dtype=torch.float64, device=device)
    episode = torch.arange(E, device=device).expand(T, E)
    for round_index in range(math.ceil(num_episodes / E)):
        episode_ids = episode + round_index * E
        counted = episode_ids < num_episodes  # (T, E) the last round may run spare copies
        obs = env.reset(goal_indices=episode_ids % info.num_goals)
        ever_success = torch.zeros(T, E, dtype=torch.bool, device=device)
        alive = torch.ones(T, E, dtype=torch.bool, device=device)
        episode_return = torch.zeros(T, E, device=device)
        for _ in range(info.max_episode_steps):
            result = env.step(policy(obs))
            episode_return += result.reward * alive
            ever_success |= result.success & alive
            alive &= ~result.done
            obs = result.obs
        successes += (ever_success & counted).sum(dim=1)
        returns += (episode_return.double() * counted).sum(dim=1)
    rates = [count / num_episodes for count in successes.tolist()]  # exact: integer counts
    mean_returns = (returns / num_episodes).tolist()
    return EvalResult(
        mean_success=sum(rates) / T,
        per_task=dict(zip(info.task_names, rates, strict=True)),
        worst_k=worst_k_success(rates),
        mean_return=float(sum(mean_returns) / T),
        per_task_return=dict(zip(info.task_names, mean_returns, strict=True)),
        episodes_per_task=num_episodes,
        protocol={
            "benchmark": info.benchmark,
            "episodes_per_task": num_episodes,
            "goals": "episode i uses training goal i (each of the fixed goals once)",
            "actions": "deterministic (tanh of the policy mean)",
            "success": "success flag was 1 at any step of the episode",
            "max_episode_steps": info.max_episode_steps,
            "backend": info.backend,
            **{k: v for k, v in info.extra.items() if k == "reward_function_version"},
        },
    )


def format_table(result: EvalResult) -> str:
    """A per-task success table for the terminal."""
    width = max([len("task")] + [len(n) for n in result.per_task])
    lines = [f"{'task':<{width}}  success  return", f"{'-' * width}  -------  ------"]
    for name, rate in result.per_task.items():
        lines.append(f"{name:<{width}}  {rate:7.2f}  {result.per_task_return[name]:6.1f}")
    lines.append(f"{'-' * width}  -------  ------")
    lines.append(f"{'mean':<{width}}  {result.mean_success:7.2f}  {result.mean_return:6.1f}")
    return "\n".join(lines)
