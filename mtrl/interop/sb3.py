"""One task of an mtrl policy as a Stable-Baselines3-style policy, so SB3's tools run on it.

:class:`SB3PolicyAdapter` gives an mtrl agent (MTSAC or MTPPO, anything with ``act(obs (T, E, D), deterministic)``)
SB3's acting interface for one task: ``predict(observation, state=None, episode_start=None, deterministic=False)
-> (actions, None)`` plus ``observation_space`` and ``action_space``. With the task's single-task env
(:func:`envs.single_task.make_single_task_env`)::

    from stable_baselines3.common.evaluation import evaluate_policy
    policy = SB3PolicyAdapter.from_checkpoint("runs/mt10-seed0", task="reach-v3")
    env = make_single_task_env(cfg.env, "reach-v3", seed=cfg.seed)
    mean_return, std_return = evaluate_policy(policy, env, n_eval_episodes=10)

Stable-Baselines3 itself is not imported here: the adapter only has to quack like an SB3 model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from mtrl.agents.registry import agent_spec, build_agent
from mtrl.config import RunConfig, from_yaml_text
from mtrl.errors import CheckpointError
from mtrl.runs.checkpoint import check_same_run, load_checkpoint
from mtrl.runs.directory import find_checkpoint, read_run_config
from mtrl.runs.layout import ENV_FILE


class SB3PolicyAdapter:
    """Task ``task_index`` of a multi-task agent's policy behind SB3's ``predict``.

    Args:
        agent: an mtrl agent whose ``act(obs (T, E, obs_dim), deterministic)`` returns ``(T, E, action_dim)``.
        task_index: the task this policy plays, on the agent's ``T`` axis.
        num_tasks: ``T``.
        observation_space: the task's observation space (default: unbounded float32 ``Box`` of ``obs_dim``).
        action_space: the task's action space (default: ``Box(-1, 1, (action_dim,))``).
        obs_dim, action_dim: used for the default spaces.
        device: where the agent's parameters live.
        task_name: for ``repr`` and error messages.
    """

    def __init__(self, agent: Any, task_index: int, num_tasks: int, *, obs_dim: int | None = None,
                 action_dim: int | None = None, observation_space: gym.spaces.Box | None = None,
                 action_space: gym.spaces.Box | None = None, device: torch.device | str = "cpu",
                 task_name: str | None = None) -> None:
        if not 0 <= task_index < num_tasks:
            raise ValueError(f"task_index must be in [0, {num_tasks}), got {task_index}")
        if observation_space is None:
            if obs_dim is None:
                raise ValueError("give observation_space or obs_dim")
            observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        if action_space is None:
            if action_dim is None:
                raise ValueError("give action_space or action_dim")
            action_space = gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32)
        self.agent = agent
        self.task_index, self.num_tasks = task_index, num_tasks
        self.observation_space, self.action_space = observation_space, action_space
        self.device = torch.device(device)
        self.task_name = task_name or f"task {task_index}"

    @classmethod
    def from_checkpoint(cls, target: str | Path, task: str | int, device: torch.device | str = "cpu",
                        env: gym.Env | None = None) -> SB3PolicyAdapter:
        """The policy of a run directory's newest checkpoint (or of a checkpoint file), for one task.

        Args:
            target: a run directory of ``mtrl train`` or a ``ckpt_*.pt`` file.
            task: a task name or index on the run's ``T`` axis.
            device: where to load the policy.
            env: the task's single-task env; its spaces become the adapter's (shapes are checked).
        """
        checkpoint, run_dir = find_checkpoint(Path(target))
        torch_device = torch.device(device)
        state = load_checkpoint(checkpoint, map_location=torch_device)
        cfg = from_yaml_text(state["config"])
        if agent_spec(cfg.agent.name).build is None:
            raise CheckpointError(f"{checkpoint}: agent {cfg.agent.name!r} has no mtrl policy to wrap")
        if run_dir is not None:  # the run's env.json describes this checkpoint only if it is the run's own
            check_same_run(read_run_config(run_dir), cfg, checkpoint)
        task_names, obs_dim, action_dim = _env_facts(cfg, run_dir / ENV_FILE if run_dir is not None else None)
        if isinstance(task, str):
            if task not in task_names:
                raise ValueError(f"task {task!r} is not in the run; its tasks: {', '.join(task_names)}")
            task_index = task_names.index(task)
        else:
            task_index = int(task)
        agent = build_agent(cfg, obs_dim, action_dim, len(task_names), torch_device)
        try:
            agent.load_policy_state_dict(state["agent"])
        except (RuntimeError, KeyError) as err:
            raise CheckpointError(f"checkpoint {checkpoint} does not fit its recorded architecture: "
                                  f"{str(err).splitlines()[0][:300]}") from err
        spaces: dict[str, Any] = {}
        if env is not None:
            if env.observation_space.shape != (obs_dim,) or env.action_space.shape != (action_dim,):
                raise ValueError(f"env spaces {env.observation_space.shape} / {env.action_space.shape} do not fit "
                                 f"the policy's ({obs_dim},) / ({action_dim},)")
            spaces = {"observation_space": env.observation_space, "action_space": env.action_space}
        return cls(agent, task_index, len(task_names), obs_dim=obs_dim, action_dim=action_dim, device=torch_device,
                   task_name=task_names[task_index] if 0 <= task_index < len(task_names) else None, **spaces)

    def predict(self, observation: np.ndarray, state: tuple[np.ndarray, ...] | None = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """SB3's ``predict``: actions for ``observation`` ``(obs_dim,)`` or a batch ``(N, obs_dim)``.

        Returns:
            ``(actions, None)``: actions ``(action_dim,)`` or ``(N, action_dim)``, float32 in the action space
            (``state`` and ``episode_start`` are accepted for SB3's signature; the policy has no recurrent state).
        """
        obs = np.asarray(observation, dtype=np.float32)
        single = obs.shape == self.observation_space.shape
        batch = torch.as_tensor(obs.reshape(-1, self.observation_space.shape[0]), device=self.device)
        # the agent acts for every task at once: the task's observations go to every task, its row is kept
        obs_all = batch.unsqueeze(0).expand(self.num_tasks, *batch.shape)
        actions = self.agent.act(obs_all, deterministic=deterministic)[self.task_index]
        actions = np.clip(actions.cpu().numpy().astype(np.float32), self.action_space.low, self.action_space.high)
        return (actions[0] if single else actions), None

    def __repr__(self) -> str:
        return f"SB3PolicyAdapter({type(self.agent).__name__}, {self.task_name})"


def _env_facts(cfg: RunConfig, env_file: Path | None) -> tuple[list[str], int, int]:
    """``(task_names, obs_dim, action_dim)`` from the run's ``env.json``, or by building its env if it is missing."""
    if env_file is not None and env_file.is_file():
        record = json.loads(env_file.read_text())
        return list(record["task_names"]), int(record["obs_dim"]), int(record["action_dim"])
    from envs import make_env

    with make_env(cfg.env, seed=cfg.seed) as env:
        return list(env.info.task_names), env.info.obs_dim, env.info.action_dim
