"""Inputs shared by tests in several folders: repository paths, a filled SAC replay buffer, paired SAC updates, a
random PPO rollout and a run's JSONL rows. Plain functions; test files import them (``from tests.helpers import
...``), never each other. The surgery tests' inputs and assertions are in ``tests/surgery/asserts.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from mtrl.agents.ppo import MTPPO, Rollout, gaussian_log_prob
from mtrl.replay import TaskReplayBuffer

ROOT = Path(__file__).resolve().parents[1]  # the repository
SYNTHETIC = ROOT / "configs" / "synthetic.yaml"

#: tasks, observation size and action size of :func:`filled_buffer` (the SAC unit tests' agents use the same)
T, D, A = 3, 7, 2


def filled_buffer(num_tasks: int = T, n: int = 64, seed: int = 0) -> TaskReplayBuffer:
    """A replay buffer of ``n`` random transitions per task: obs ``(num_tasks, n, D)``, actions in ``[-1, 1]``
    ``(num_tasks, n, A)``, rewards ``(num_tasks, n)``, no terminations."""
    g = torch.Generator().manual_seed(seed)
    buf = TaskReplayBuffer(num_tasks, 128, D, A, "cpu")
    buf.add(torch.randn(num_tasks, n, D, generator=g), torch.rand(num_tasks, n, A, generator=g) * 2 - 1,
            torch.randn(num_tasks, n, generator=g), torch.randn(num_tasks, n, D, generator=g),
            torch.zeros(num_tasks, n))
    return buf


def paired_updates(first: Any, second: Any, buffer: TaskReplayBuffer,
                   steps: int = 3) -> Iterator[tuple[dict, dict]]:
    """The metrics of ``steps`` updates of two agents, on the same batches and the same random draws."""
    for i in range(steps):
        batch = buffer.sample(16)
        torch.manual_seed(i)
        a = first.update(batch)
        torch.manual_seed(i)
        yield a, second.update(batch)


def fake_rollout(agent: MTPPO, S=8, T=2, E=2, seed=0) -> Rollout:
    """A random MTPPO rollout of ``S`` steps, ``T`` tasks, ``E`` envs per task (obs size 3, action size 2) whose
    log-probabilities are the agent's own."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(S, T, E, 3, generator=g)
    actions = torch.randn(S, T, E, 2, generator=g)
    mean, log_std = agent.actor_fn(obs.reshape(S * T, E, 3).view(S, T, E, 3).transpose(0, 1).reshape(T, S * E, 3))
    lp = gaussian_log_prob(actions.transpose(0, 1).reshape(T, S * E, 2), mean, log_std[:, None].expand_as(mean))
    log_probs = lp.reshape(T, S, E).transpose(0, 1).detach()
    values = torch.randn(S, T, E, generator=g)
    adv = torch.randn(S, T, E, generator=g)
    return Rollout(obs, actions, log_probs, values, adv, adv + values)


WALL_CLOCK = ("charts/env_steps_per_s", "charts/updates_per_s", "wall_clock_s")  # differ between runs


def without_wall_clock(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in WALL_CLOCK}


def rows_without_wall_clock(path: Path) -> list[dict]:
    """A JSONL file's rows (metrics.jsonl, evals.jsonl) without their wall-clock entries."""
    return [without_wall_clock(json.loads(line)) for line in path.read_text().splitlines()]


@contextmanager
def training_interrupted_at(step: int) -> Iterator[None]:
    """Inside the block, ``mtrl train`` stops as at Ctrl-C (``KeyboardInterrupt``) at the first episode boundary
    where the trainer's env step per task has reached ``step``; the trainer is restored on leaving."""
    import mtrl.train as train_module

    original = train_module.Trainer._run_episode

    def interrupt(self, episode_len):
        if self.step >= step:
            raise KeyboardInterrupt
        return original(self, episode_len)

    train_module.Trainer._run_episode = interrupt
    try:
        yield
    finally:
        train_module.Trainer._run_episode = original


def assert_per_layer_gradients_match_autograd(net, losses_fn, inputs: tuple, names: list[str]) -> None:
    """The per-layer path's per-task gradients of ``net.module``'s parameters ``names`` (``LinearTaskGradients``)
    equal autograd's gradient of each task's loss alone, to 1e-6. ``losses_fn(*inputs)`` returns ``((T,) losses,
    aux)``."""
    from mtrl.task_gradients import LinearTaskGradients

    grads = LinearTaskGradients(net)(losses_fn, inputs)
    losses, _ = losses_fn(*inputs)
    params = [net.module.get_parameter(name) for name in names]
    for t in range(losses.shape[0]):
        reference = torch.autograd.grad(losses[t], params, retain_graph=True)
        for name, expected in zip(names, reference, strict=True):
            assert torch.allclose(grads.shared[name][t], expected, atol=1e-6), (name, t)
