"""Off-policy loop (MTSAC): act, store in the task-stratified replay buffer, update every step."""

from __future__ import annotations

import math
from typing import Any

import torch

from envs.base import EnvInfo, MultiTaskVectorEnv
from mtrl.replay import TaskReplayBuffer
from mtrl.runs.logger import MetricAccumulator

DIAGNOSTIC_KEYS = ("conflict_fraction", "mean_cosine", "grad_norms")


class OffPolicyLoop:
    """Uniformly random actions for the first ``random_steps_per_task`` steps, then the policy; after them,
    ``updates_per_step`` gradient updates per vector-env step on batches of ``batch_size_per_task`` per task.

    With ``train.overlap_updates`` a step's updates run between sending the actions and receiving the results
    (``env.step_async`` / ``step_wait``), so async env workers simulate while the learner computes; those updates
    sample the buffer before the step's transition is added (one transition of staleness).

    Args:
        cfg: the run config (``train``, ``agent.sac`` and ``surgery`` sections are read).
        info: the training env's facts.
        agent: an :class:`~mtrl.agents.sac.MTSAC`.
        device: the learner's device (the buffer lives there).
    """

    def __init__(self, cfg: Any, info: EnvInfo, agent: Any, device: torch.device) -> None:
        self.cfg, self.info, self.agent, self.device = cfg, info, agent, device
        self.buffer = TaskReplayBuffer(info.num_tasks, cfg.train.buffer_capacity_per_task, info.obs_dim,
                                       info.action_dim, device)
        self.random_iterations = math.ceil(cfg.train.random_steps_per_task / info.envs_per_task)

    def run_episode(self, env: MultiTaskVectorEnv, iteration: int, metrics: MetricAccumulator,
                    finite: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cfg, agent, info = self.cfg, self.agent, self.info
        T, E = info.num_tasks, info.envs_per_task
        batch_size = cfg.agent.sac.batch_size_per_task
        diag_every = cfg.surgery.diagnostics_every
        obs = env.reset()
        episode_return = torch.zeros(T, E, device=self.device)
        ever_success = torch.zeros(T, E, dtype=torch.bool, device=self.device)
        overlap = cfg.train.overlap_updates
        for _ in range(info.max_episode_steps):
            if iteration < self.random_iterations:
                action = torch.rand(T, E, info.action_dim, device=self.device) * 2 - 1
            else:
                action = agent.act(obs)
            if overlap:  # this step's updates sample the buffer as it was before the step
                env.step_async(action)
                if iteration >= self.random_iterations and iteration > 0:
                    self._update(batch_size, diag_every, metrics, finite)
                result = env.step_wait()
            else:
                result = env.step(action)
            self.buffer.add(obs, action, result.reward, result.obs, result.terminated)
            episode_return += result.reward
            ever_success |= result.success
            obs = result.obs
            iteration += 1
            if not overlap and iteration > self.random_iterations:
                self._update(batch_size, diag_every, metrics, finite)
        return episode_return, ever_success, result.truncated

    def _update(self, batch_size: int, diag_every: int, metrics: MetricAccumulator, finite: torch.Tensor) -> None:
        """``updates_per_step`` gradient updates on task-stratified batches; losses and-ed into ``finite``."""
        agent = self.agent
        for _ in range(self.cfg.train.updates_per_step):
            with_diag = diag_every > 0 and agent.num_updates % diag_every == 0
            out = agent.update(self.buffer.sample(batch_size), with_diagnostics=with_diag)
            finite &= torch.isfinite(out["critic_loss"]).all()
            if "actor_loss" in out:
                finite &= torch.isfinite(out["actor_loss"]).all()
            metrics.add(out)

    def state_dict(self) -> dict[str, Any]:
        return {"buffer": self.buffer.state_dict() if self.cfg.train.save_buffer else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["buffer"] is not None:
            self.buffer.load_state_dict(state["buffer"])
