"""On-policy loop (MTPPO): one full episode of every sub-env is one rollout, then one PPO update.

Rollouts end at episode boundaries, so no partial rollout is ever pending at a checkpoint.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from envs.base import EnvInfo, MultiTaskVectorEnv
from mtrl.agents.ppo import Rollout, compute_gae
from mtrl.runs.logger import MetricAccumulator


class OnPolicyLoop:
    """Collect ``max_episode_steps`` steps of every sub-env with the current policy, compute GAE per env, update.

    Args:
        cfg: the run config (``train``, ``agent.ppo`` and ``surgery`` are read).
        info: the training env's facts.
        agent: an :class:`~mtrl.agents.ppo.MTPPO`.
        device: the learner's device (the rollout lives there).
    """

    def __init__(self, cfg: Any, info: EnvInfo, agent: Any, device: torch.device) -> None:
        self.cfg, self.info, self.agent, self.device = cfg, info, agent, device
        steps_per_update = info.max_episode_steps * info.envs_per_task
        self.total_updates = max(1, math.ceil(cfg.train.total_steps_per_task / steps_per_update))

    def run_episode(self, env: MultiTaskVectorEnv, iteration: int, metrics: MetricAccumulator,
                    finite: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        agent, info, ppo = self.agent, self.info, self.cfg.agent.ppo
        T, E, S = info.num_tasks, info.envs_per_task, info.max_episode_steps
        dev = self.device
        obs_buf = torch.zeros(S, T, E, info.obs_dim, device=dev)
        actions = torch.zeros(S, T, E, info.action_dim, device=dev)
        log_probs = torch.zeros(S, T, E, device=dev)
        values = torch.zeros(S, T, E, device=dev)
        next_values = torch.zeros(S, T, E, device=dev)
        rewards = torch.zeros(S, T, E, device=dev)
        terminated = torch.zeros(S, T, E, dtype=torch.bool, device=dev)
        episode_end = torch.zeros(S, T, E, dtype=torch.bool, device=dev)
        ever_success = torch.zeros(T, E, dtype=torch.bool, device=dev)
        obs = agent.normalize(env.reset(), update=True)
        for s in range(S):
            action, log_prob, value = agent.explore(obs)
            result = env.step(action.clamp(-1.0, 1.0))
            obs_buf[s], actions[s], log_probs[s], values[s] = obs, action, log_prob, value
            rewards[s], terminated[s], episode_end[s] = result.reward, result.terminated, result.done
            ever_success |= result.success
            if s < S - 1:
                obs = agent.normalize(result.obs, update=True)
            else:  # the final observation: bootstrap from it, with the statistics the rollout was taken with
                obs = agent.normalize(result.obs)
            if s > 0:
                next_values[s - 1] = value
        next_values[S - 1] = agent.value(obs)
        advantages, returns = compute_gae(rewards, values, next_values, terminated, episode_end,
                                          ppo.gamma, ppo.gae_lambda)
        agent.set_learning_rate_fraction(1.0 - agent.num_updates / self.total_updates)
        out = agent.update(Rollout(obs_buf, actions, log_probs, values, advantages, returns),
                           with_diagnostics=self.cfg.surgery.diagnostics_every > 0)
        finite &= torch.isfinite(out["actor_loss"]).all() & torch.isfinite(out["critic_loss"]).all()
        metrics.add(out)
        return rewards.sum(dim=0), ever_success, result.truncated

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass
