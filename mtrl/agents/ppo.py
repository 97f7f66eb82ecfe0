"""Multi-task PPO (Schulman et al. 2017) with per-task losses through the surgery seam.

* Actor: task-conditioned Gaussian policy, mean from the network, a learned state-independent log-std per task.
  Actions are clipped to ``[-1, 1]`` when they reach the env; log-probabilities are of the unclipped sample.
* Critic: task-conditioned value network; with ``popart`` (:mod:`mtrl.nets.popart`) its per-task heads output
  normalised values: GAE runs on unnormalised values (``explore``/``value`` return them), the value loss on
  normalised returns, and every update first folds the rollout's returns into the per-task statistics.
* Observation normalisation: running mean/std per task (saved in checkpoints).
* Update: GAE per env, advantages normalised per task, clipped surrogate objective, (clipped) value loss,
  entropy bonus, several epochs of task-stratified minibatches (every minibatch holds the same number of samples
  of every task, so per-task losses always exist), KL early stop per epoch, linear learning-rate annealing,
  gradient clipping. The actor's and critic's per-task losses reach their shared parameters through a
  :class:`~mtrl.surgery.base.Surgery` exactly as in MTSAC.

All tensors carry a leading task axis: ``obs (T, B, obs_dim)``; rollouts ``(S, T, E, ...)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from mtrl.agents.ppo_config import PPOConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.popart import PopArt, check_popart
from mtrl.nets.task_batched import Params, TaskBatched, TaskSpecific
from mtrl.optim import adam
from mtrl.precision import Precision
from mtrl.surgery.base import Surgery
from mtrl.task_gradients import SurgeryUpdate


def compute_gae(rewards: Tensor, values: Tensor, next_values: Tensor, terminated: Tensor, episode_end: Tensor,
                gamma: float, lam: float) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) along the first axis, per env.

    Args:
        rewards, values: ``(S, ...)``; ``values[s] = V(obs_s)``.
        next_values: ``(S, ...)``: ``V(obs_{s+1})``, the value of the state reached by step ``s`` (at an episode
            end: the final observation's value, so truncated episodes still bootstrap).
        terminated: ``(S, ...)``: step ``s`` reached a terminal state (no bootstrap).
        episode_end: ``(S, ...)``: step ``s`` ended the episode (terminated or truncated): the advantage
            recursion does not continue across it.
    Returns:
        ``(advantages, returns)`` each ``(S, ...)``; ``returns = advantages + values``.
    """
    advantages = torch.zeros_like(rewards)
    carry = torch.zeros_like(rewards[0])
    not_terminal = 1.0 - terminated.float()
    continues = 1.0 - episode_end.float()
    for s in range(rewards.shape[0] - 1, -1, -1):
        delta = rewards[s] + gamma * not_terminal[s] * next_values[s] - values[s]
        carry = delta + gamma * lam * continues[s] * carry
        advantages[s] = carry
    return advantages, advantages + values


def normalize_per_task(x: Tensor, eps: float = 1e-8) -> Tensor:
    """Zero mean, unit std within each task: ``x (T, N)``."""
    return (x - x.mean(dim=1, keepdim=True)) / (x.std(dim=1, keepdim=True) + eps)


class RunningMeanStd(nn.Module):
    """Per-task running mean and variance of observations (parallel-variance update, Chan et al. 1979).

    Buffers: ``mean (T, D)``, ``var (T, D)``, ``count ()``.
    """

    def __init__(self, num_tasks: int, dim: int, clip: float = 10.0) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(num_tasks, dim))
        self.register_buffer("var", torch.ones(num_tasks, dim))
        self.register_buffer("count", torch.tensor(1e-4))
        self.clip = clip

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        """``x (T, N, D)``: a batch of every task's observations."""
        batch_mean = x.mean(dim=1)
        batch_var = x.var(dim=1, unbiased=False)
        n = x.shape[1]
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean += delta * n / total
        self.var.copy_((self.var * self.count + batch_var * n + delta.pow(2) * self.count * n / total) / total)
        self.count.copy_(total)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x (T, N, D)`` with each task's statistics."""
        return ((x - self.mean[:, None]) / torch.sqrt(self.var[:, None] + 1e-8)).clamp(-self.clip, self.clip)


class TaskLogStd(TaskSpecific):
    """A learned log standard deviation per task: ``log_std (T, A)``; single-task view: ``(A,)``."""

    def __init__(self, num_tasks: int, action_dim: int, init: float) -> None:
        super().__init__()
        self.log_std = nn.Parameter(torch.full((num_tasks, action_dim), float(init)))

    def forward(self) -> Tensor:
        return self.log_std


class GaussianActor(nn.Module):
    """Single-task view: ``forward(obs (B, D), task_onehot (T,))`` -> ``(mean (B, A), log_std (A,))``."""

    def __init__(self, obs_dim: int, action_dim: int, num_tasks: int, cfg: PPOConfig) -> None:
        super().__init__()
        self.net = TaskConditionedNet(obs_dim, action_dim, num_tasks, cfg.actor)
        self.log_std = TaskLogStd(num_tasks, action_dim, cfg.init_log_std)
        self.task_batched_forward = self.net.task_batched_forward  # see TaskBatched

    def forward(self, obs: Tensor, task_onehot: Tensor) -> tuple[Tensor, Tensor]:
        return self.net(obs, task_onehot), self.log_std()


class ValueNet(nn.Module):
    """Single-task view: ``forward(obs (B, D), task_onehot (T,))`` -> ``(B,)``."""

    def __init__(self, obs_dim: int, num_tasks: int, cfg: PPOConfig) -> None:
        super().__init__()
        self.net = TaskConditionedNet(obs_dim, 1, num_tasks, cfg.critic)
        self.task_batched_forward = self.net.task_batched_forward

    def forward(self, obs: Tensor, task_onehot: Tensor) -> Tensor:
        return self.net(obs, task_onehot).squeeze(-1)


def gaussian_log_prob(action: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """Log-density of a diagonal Gaussian, summed over the last axis."""
    return (-0.5 * ((action - mean) / log_std.exp()).pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_entropy(log_std: Tensor) -> Tensor:
    """Entropy of a diagonal Gaussian, summed over the last axis."""
    return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)


@dataclass
class Rollout:
    """One rollout, ``(S, T, E, ...)``: ``obs`` are already normalised with the statistics used to act."""

    obs: Tensor
    actions: Tensor
    log_probs: Tensor
    values: Tensor
    advantages: Tensor
    returns: Tensor


class MTPPO:
    """Multi-task PPO.

    Args:
        obs_dim, action_dim: feature sizes of one task's observation and action.
        num_tasks: ``T``.
        cfg: hyper-parameters.
        actor_surgery, critic_surgery: how per-task gradients of the shared parameters are combined.
        device: where parameters live.
    """

    def __init__(self, obs_dim: int, action_dim: int, num_tasks: int, cfg: PPOConfig, actor_surgery: Surgery,
                 critic_surgery: Surgery, device: torch.device | str = "cpu") -> None:
        self.cfg = cfg
        self.num_tasks = num_tasks
        self.action_dim = action_dim
        self.device = torch.device(device)
        self.actor = GaussianActor(obs_dim, action_dim, num_tasks, cfg).to(self.device)
        self.critic = ValueNet(obs_dim, num_tasks, cfg).to(self.device)
        self.obs_rms = RunningMeanStd(num_tasks, obs_dim).to(self.device)
        check_popart(cfg.popart, cfg.popart_beta, cfg.critic.heads)
        self.popart = PopArt(num_tasks, cfg.popart_beta).to(self.device) if cfg.popart else None
        self.actor_fn = TaskBatched(self.actor, num_tasks)
        self.critic_fn = TaskBatched(self.critic, num_tasks)
        self.actor_optimizer = adam(self.actor.parameters(), cfg.lr, self.device, eps=1e-5)
        self.critic_optimizer = adam(self.critic.parameters(), cfg.lr, self.device, eps=1e-5)
        self.actor_surgery = actor_surgery.to(self.device)
        self.critic_surgery = critic_surgery.to(self.device)
        self.precision = Precision(cfg.precision, self.device)
        self.actor_update = SurgeryUpdate(self.actor_fn, self.actor_surgery, self.actor_optimizer, cfg.max_grad_norm,
                                          compile=cfg.compile, precision=self.precision)
        self.critic_update = SurgeryUpdate(self.critic_fn, self.critic_surgery, self.critic_optimizer,
                                           cfg.max_grad_norm, compile=cfg.compile, precision=self.precision)
        self.num_updates = 0

    # ------------------------------------------------------------------ acting
    def normalize(self, obs: Tensor, update: bool = False) -> Tensor:
        """Normalise ``obs (T, E, D)`` (and fold it into the running statistics when ``update``)."""
        if not self.cfg.normalize_obs:
            return obs
        if update:
            self.obs_rms.update(obs)
        return self.obs_rms(obs)

    @torch.no_grad()
    def act(self, obs: Tensor, deterministic: bool = False) -> Tensor:
        """Actions in ``[-1, 1]`` for raw ``obs (T, E, D)`` (evaluation: ``deterministic`` = the mean)."""
        with self.precision.forward():
            mean, log_std = self.actor_fn(self.normalize(obs))
        if deterministic:
            return mean.clamp(-1.0, 1.0)
        return (mean + torch.randn_like(mean) * log_std.exp()[:, None]).clamp(-1.0, 1.0)

    @torch.no_grad()
    def explore(self, norm_obs: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """For collection: ``(action (T, E, A) unclipped, log_prob (T, E), value (T, E))`` of normalised obs."""
        with self.precision.forward():  # as in the update, so the first epoch's ratios are 1
            mean, log_std = self.actor_fn(norm_obs)
        log_std = log_std[:, None].expand_as(mean)
        action = mean + torch.randn_like(mean) * log_std.exp()
        return action, gaussian_log_prob(action, mean, log_std), self.value(norm_obs)

    @torch.no_grad()
    def value(self, norm_obs: Tensor) -> Tensor:
        """``V (T, E)`` of normalised observations, in reward units (unnormalised with PopArt)."""
        with self.precision.forward():
            values = self.critic_fn(norm_obs)
        return self._unnormalized(values)

    def _unnormalized(self, values: Tensor) -> Tensor:
        """The value head's outputs ``(T, E)`` in reward units (PopArt's statistics undone, float32)."""
        return values if self.popart is None else self.popart.unnormalize(values)

    # ------------------------------------------------------------------ losses
    # The objectives reduce over the last (sample) axis: a scalar in the single-task view, per-task losses (T,)
    # in the task-batched view. log_std is (A,) per task, (T, A) task-batched: unsqueeze(-2) aligns it with mean.
    def _actor_objective(self, mean: Tensor, log_std: Tensor, actions: Tensor, old_log_probs: Tensor,
                         advantages: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        log_std = log_std.unsqueeze(-2).expand_as(mean)
        log_ratio = gaussian_log_prob(actions, mean, log_std) - old_log_probs
        ratio = log_ratio.exp()
        clip = self.cfg.clip_coef
        policy_loss = torch.maximum(-advantages * ratio, -advantages * ratio.clamp(1 - clip, 1 + clip)).mean(-1)
        entropy = gaussian_entropy(log_std).mean(-1)
        loss = policy_loss - self.cfg.ent_coef * entropy
        with torch.no_grad():
            aux = {"approx_kl": ((ratio - 1) - log_ratio).mean(-1),
                   "clip_fraction": ((ratio - 1).abs() > clip).float().mean(-1),
                   "entropy": entropy, "policy_loss": policy_loss}
        return loss, aux

    def _critic_objective(self, values: Tensor, old_values: Tensor, returns: Tensor) -> tuple[Tensor, Tensor]:
        unclipped = (values - returns).pow(2)
        if self.cfg.clip_value_loss:
            clipped = old_values + (values - old_values).clamp(-self.cfg.clip_coef, self.cfg.clip_coef)
            value_loss = 0.5 * torch.maximum(unclipped, (clipped - returns).pow(2)).mean(-1)
        else:
            value_loss = 0.5 * unclipped.mean(-1)
        return self.cfg.vf_coef * value_loss, values.mean(-1).detach()

    # single-task view (vmapped; per-task Jacobians)
    def _actor_loss(self, shared: Params, task: Params, obs: Tensor, actions: Tensor, old_log_probs: Tensor,
                    advantages: Tensor, onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        mean, log_std = self.actor_fn.single_task_fn()(shared, task, obs, onehot)
        return self._actor_objective(mean, log_std, actions, old_log_probs, advantages)

    def _critic_loss(self, shared: Params, task: Params, obs: Tensor, old_values: Tensor, returns: Tensor,
                     onehot: Tensor) -> tuple[Tensor, Tensor]:
        values = self.critic_fn.single_task_fn()(shared, task, obs, onehot)
        return self._critic_objective(values, old_values, returns)

    # task-batched view (the live modules called directly; methods without a Jacobian, plain MLP encoders)
    def _actor_losses_batched(self, obs: Tensor, actions: Tensor, old_log_probs: Tensor,
                              advantages: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        mean, log_std = self.actor_fn(obs)
        return self._actor_objective(mean, log_std, actions, old_log_probs, advantages)

    def _critic_losses_batched(self, obs: Tensor, old_values: Tensor, returns: Tensor) -> tuple[Tensor, Tensor]:
        return self._critic_objective(self.critic_fn(obs), old_values, returns)

    # ------------------------------------------------------------------ update
    def set_learning_rate_fraction(self, fraction: float) -> None:
        """Scale the learning rate to ``fraction`` of its configured value (linear annealing)."""
        lr = self.cfg.lr * (fraction if self.cfg.anneal_lr else 1.0)
        for optimizer in (self.actor_optimizer, self.critic_optimizer):
            for group in optimizer.param_groups:
                group["lr"] = lr

    def update(self, rollout: Rollout, with_diagnostics: bool = False) -> dict[str, Tensor]:
        """Epochs of task-stratified minibatch updates on one rollout. Returns device tensors; the only host
        sync is the KL early-stop check once per epoch (when ``target_kl`` is set)."""
        cfg = self.cfg
        T = self.num_tasks

        def per_task(x: Tensor) -> Tensor:  # (S, T, E, ...) -> (T, S*E, ...)
            return x.transpose(0, 1).reshape(T, -1, *x.shape[3:])

        obs, actions = per_task(rollout.obs), per_task(rollout.actions)
        old_log_probs, old_values = per_task(rollout.log_probs), per_task(rollout.values)
        returns, advantages = per_task(rollout.returns), per_task(rollout.advantages)
        if cfg.normalize_advantages:
            advantages = normalize_per_task(advantages)
        value_targets, old_value_outputs = returns, old_values  # in the value head's units
        if self.popart is not None:  # statistics of this rollout's returns; the heads rescaled to preserve V
            self.popart.update(returns, [(self.critic.net.head.weight, self.critic.net.head.bias)])
            value_targets, old_value_outputs = self.popart.normalize(returns), self.popart.normalize(old_values)
        n = obs.shape[1]
        mb = n // cfg.minibatches
        if mb < 1:
            raise ValueError(f"rollout of {n} samples per task cannot be split into {cfg.minibatches} minibatches")
        onehots = self.actor_fn.task_onehots(self.device)
        rows = torch.arange(T, device=self.device)[:, None]
        metrics: dict[str, Tensor] = {}
        sums: dict[str, Tensor] = {}
        count = 0
        epochs_run = torch.zeros((), device=self.device)
        for _ in range(cfg.epochs):
            order = torch.argsort(torch.rand(T, n, device=self.device), dim=1)  # a permutation per task
            epoch_kl = torch.zeros((), device=self.device)
            for start in range(0, mb * cfg.minibatches, mb):
                idx = order[:, start:start + mb]
                pick = (rows, idx)
                diag = with_diagnostics and count == 0
                actor_inputs = (obs[pick], actions[pick], old_log_probs[pick], advantages[pick])
                actor_step, actor_aux, actor_norm = self.actor_update(
                    self._actor_loss, (*actor_inputs, onehots), with_diagnostics=diag,
                    batched=(self._actor_losses_batched, actor_inputs) if self.actor_fn.native else None)
                critic_inputs = (obs[pick], old_value_outputs[pick], value_targets[pick])
                critic_step, v_mean, critic_norm = self.critic_update(
                    self._critic_loss, (*critic_inputs, onehots), with_diagnostics=diag,
                    batched=(self._critic_losses_batched, critic_inputs) if self.critic_fn.native else None)
                step_metrics = {"actor_loss": actor_step.losses, "critic_loss": critic_step.losses,
                                "actor_grad_norm": actor_norm, "critic_grad_norm": critic_norm, "value_mean": v_mean,
                                "actor_task_weights": actor_step.task_weights,
                                "critic_task_weights": critic_step.task_weights, **actor_aux}
                for k, v in step_metrics.items():
                    sums[k] = sums[k] + v if k in sums else v.clone()
                for k, v in actor_step.diagnostics.items():
                    metrics[f"actor_{k}"] = v
                for k, v in critic_step.diagnostics.items():
                    metrics[f"critic_{k}"] = v
                epoch_kl = epoch_kl + actor_aux["approx_kl"].mean()
                count += 1
            epochs_run += 1
            if cfg.target_kl is not None and bool(epoch_kl / cfg.minibatches > cfg.target_kl):
                break
        metrics.update({k: v / count for k, v in sums.items()})
        metrics["epochs"] = epochs_run
        metrics["policy_std"] = self.actor.log_std.log_std.detach().exp().mean(dim=1)
        with torch.no_grad():
            residual = (returns - old_values).var(dim=1)
            metrics["explained_variance"] = 1 - residual / (returns.var(dim=1) + 1e-8)
        if self.popart is not None:
            metrics["popart_mean"], metrics["popart_std"] = self.popart.mean.clone(), self.popart.std
        self.num_updates += 1
        return metrics

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "obs_rms": self.obs_rms.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "actor_surgery": self.actor_surgery.state_dict(),
            "critic_surgery": self.critic_surgery.state_dict(),
            "num_updates": self.num_updates,
            **({"popart": self.popart.state_dict()} if self.popart is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if (self.popart is not None) != ("popart" in state):  # before anything is loaded
            raise ValueError(f"agent.ppo.popart is {self.popart is not None} but the checkpoint was written with "
                             f"popart {'popart' in state}")
        self.load_policy_state_dict(state)
        self.critic.load_state_dict(state["critic"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.actor_surgery.load_state_dict(state["actor_surgery"])
        self.critic_surgery.load_state_dict(state["critic_surgery"])
        self.num_updates = state["num_updates"]
        if self.popart is not None:
            self.popart.load_state_dict(state["popart"])

    def load_policy_state_dict(self, state: dict[str, Any]) -> None:
        """Load what acting needs (policy and observation statistics) from a full agent state."""
        self.actor.load_state_dict(state["actor"])
        self.obs_rms.load_state_dict(state["obs_rms"])
