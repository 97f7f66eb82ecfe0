"""Multi-task SAC (Yu et al. 2019, Meta-World; SAC: Haarnoja et al. 2018) with per-task losses.

* Actor: a task-conditioned tanh-Gaussian policy.
* Critics: twin task-conditioned Q-networks with Polyak-averaged target copies (clipped double-Q); plain MLPs
  are stored stacked and evaluated together (:class:`TwinCritic`), Q-values ``(T, 2, B)``.
* Temperature: one learned ``log_alpha`` per task, each tuned to its own entropy target.
* Optional per-task PopArt (``popart``, :mod:`mtrl.nets.popart`): the critics' per-task heads output normalised
  Q-values; TD targets are built from unnormalised target-critic values and regressed in normalised units.
* Every loss is computed per task, shape ``(T,)``; the actor's and critics' per-task losses reach their shared
  parameters through a :class:`~mtrl.surgery.base.Surgery` (``mean`` by default). Temperatures are task-specific
  and never take part in the surgery.

All tensors carry a leading task axis: ``obs (T, B, obs_dim)``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from mtrl.agents.sac_config import SACConfig
from mtrl.compile import MaybeCompiled
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.popart import PopArt, check_popart
from mtrl.nets.stacked import StackedMLPNet
from mtrl.nets.task_batched import Params, TaskBatched
from mtrl.optim import adam
from mtrl.optim import step as optimizer_step
from mtrl.precision import Precision
from mtrl.replay import Batch
from mtrl.surgery.base import Surgery
from mtrl.task_gradients import SurgeryUpdate


def squashed_gaussian(mean: Tensor, log_std: Tensor, noise: Tensor) -> tuple[Tensor, Tensor]:
    """Reparameterised sample of ``tanh(N(mean, std))`` and its log-probability.

    Args:
        mean, log_std, noise: ``(..., A)``; ``noise`` is standard normal.
    Returns:
        action ``(..., A)`` in ``(-1, 1)`` and ``log_prob`` ``(...)``.
    """
    pre_tanh = torch.addcmul(mean, noise, log_std.exp())
    action = torch.tanh(pre_tanh)
    # per dimension log N(u; mean, std) - log|d tanh(u)/du|, with u = mean + std * noise and the numerically
    # stable log|d tanh(u)/du| = 2 (log 2 - u - softplus(-2u)), is
    #     2 (u + softplus(-2u)) - log_std  -  0.5 noise² - 0.5 log(2π) - 2 log 2;
    # the terms after the first two carry no gradient and are summed apart (fewer differentiated operations)
    differentiated = (pre_tanh + F.softplus(-2.0 * pre_tanh)).mul(2.0).sub(log_std).sum(-1)
    constant = noise.square().sum(-1).mul(-0.5).sub(noise.shape[-1] * (0.5 * math.log(2 * math.pi) + 2 * math.log(2)))
    return action, differentiated + constant


class Actor(nn.Module):
    """Tanh-Gaussian policy in the single-task view: ``forward(obs (B, D), task_onehot (T,))`` ->
    ``(mean, log_std)`` each ``(B, A)``, ``log_std`` kept in ``[log_std_min, log_std_max]`` by ``log_std_bound``:
    ``tanh`` rescales smoothly (SpinningUp, CleanRL), ``clip`` clamps (Haarnoja et al.'s SAC, the Meta-World+ JAX
    baselines; zero gradient outside the bounds).

    With ``with_aux=True`` also the network's auxiliary values (see
    :meth:`~mtrl.nets.network.TaskConditionedNet.forward_with_aux`): ``(mean, log_std, aux)``."""

    def __init__(self, obs_dim: int, action_dim: int, num_tasks: int, cfg: SACConfig) -> None:
        super().__init__()
        self.net = TaskConditionedNet(obs_dim, 2 * action_dim, num_tasks, cfg.actor)
        self.log_std_min, self.log_std_max = cfg.log_std_min, cfg.log_std_max
        self.clip_log_std = cfg.log_std_bound == "clip"
        self.task_batched_forward = self.net.task_batched_forward  # see TaskBatched

    def forward(self, obs: Tensor, task_onehot: Tensor, with_aux: bool = False) -> tuple[Tensor, ...]:
        out, aux = self.net.forward_with_aux(obs, task_onehot)
        mean, log_std = out.chunk(2, dim=-1)
        if self.clip_log_std:
            log_std = log_std.clamp(self.log_std_min, self.log_std_max)
        else:
            log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (torch.tanh(log_std) + 1)
        return (mean, log_std, aux) if with_aux else (mean, log_std)

    def aux_loss(self, aux: dict[str, Tensor]) -> Tensor | None:
        """The regulariser to add to the task's loss (the load-balancing loss), or None."""
        return self.net.aux_loss(aux)


class TwinCritic(nn.Module):
    """Two independent Q-networks in the single-task view: ``forward(obs (B, D), action (B, A), task_onehot)``
    -> ``q (2, B)``, both networks' Q-values stacked (``(T, 2, B)`` in the task-batched view).

    With ``with_aux=True`` also the auxiliary values of the two networks, averaged: ``(q, aux)``.

    Plain-MLP critics (``encoder: mlp`` without FiLM) are stored as one :class:`~mtrl.nets.stacked.StackedMLPNet`
    (attribute ``pair``): both networks in one batched matmul per layer, half the operations of two networks,
    same numbers up to float rounding. They start from the same parameters as two separate networks would (built
    first, then stacked), and state dicts written with separate networks (``q1.*``, ``q2.*``) load into the stacked
    form. Other encoders keep two :class:`~mtrl.nets.network.TaskConditionedNet` s, ``q1`` and ``q2``.
    """

    def __init__(self, obs_dim: int, action_dim: int, num_tasks: int, cfg: SACConfig) -> None:
        super().__init__()
        q1 = TaskConditionedNet(obs_dim + action_dim, 1, num_tasks, cfg.critic)
        q2 = TaskConditionedNet(obs_dim + action_dim, 1, num_tasks, cfg.critic)
        self.stacked = StackedMLPNet.supports(cfg.critic)
        if self.stacked:
            self.pair = StackedMLPNet([q1, q2])
            self.register_load_state_dict_pre_hook(self._stack_separate_state)
        else:
            self.q1, self.q2 = q1, q2
        self.task_batched_forward = self.stacked or (q1.task_batched_forward and q2.task_batched_forward)

    def forward(self, obs: Tensor, action: Tensor, task_onehot: Tensor,
                with_aux: bool = False) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        x = torch.cat([obs, action], dim=-1)
        if self.stacked:
            q = self.pair(x, task_onehot).squeeze(-1)
            return (q, {}) if with_aux else q
        q1, aux1 = self.q1.forward_with_aux(x, task_onehot)
        q2, aux2 = self.q2.forward_with_aux(x, task_onehot)
        q = torch.stack([q1.squeeze(-1), q2.squeeze(-1)], dim=-2)
        if not with_aux:
            return q
        return q, {k: 0.5 * (aux1[k] + aux2[k]) for k in aux1}

    def aux_loss(self, aux: dict[str, Tensor]) -> Tensor | None:
        """The regulariser to add to the task's loss, or None: each network's balance loss times its coefficient
        (both share the config, so this is the sum of the two from their average)."""
        if self.stacked:
            return None  # plain MLPs have no balance loss
        penalty = self.q1.aux_loss(aux)
        return None if penalty is None else 2.0 * penalty

    def value_heads(self) -> list[tuple[Tensor, Tensor]]:
        """The per-task output layers' ``(weight (T, ..., in, 1), bias (T, ..., 1))``: one stacked pair for a
        stacked critic, one pair per network otherwise (what PopArt rescales)."""
        heads = [self.pair.head] if self.stacked else [self.q1.head, self.q2.head]
        return [(head.weight, head.bias) for head in heads]

    # ------------------------------------------------------------------ state written with separate networks
    @staticmethod
    def is_separate_state(state: Mapping[str, Any], prefix: str = "") -> bool:
        """Whether a critic state dict has the two networks' own entries (``q1.*``, ``q2.*``)."""
        return any(k.startswith(f"{prefix}q1.") for k in state)

    def _members(self, state: Mapping[str, Tensor], prefix: str = "") -> list[dict[str, Tensor]]:
        """``state``'s ``q1.*`` and ``q2.*`` entries, each without its prefix."""
        return [{k[len(prefix) + 3:]: v for k, v in state.items() if k.startswith(f"{prefix}{q}.")}
                for q in ("q1", "q2")]

    def _stack_separate_state(self, module: nn.Module, state: dict[str, Any], prefix: str, *_: Any) -> None:
        """Load-state pre-hook: rewrite a separate-network state (``q1.*``, ``q2.*``) into the stacked one."""
        if not self.is_separate_state(state, prefix):
            return
        stacked = self.pair.stack_states(self._members(state, prefix))
        for key in [k for k in state if k.startswith((f"{prefix}q1.", f"{prefix}q2."))]:
            del state[key]
        state.update({f"{prefix}pair.{k}": v for k, v in stacked.items()})

    def stack_separate_optimizer_state(self, critic_state: Mapping[str, Tensor],
                                       optimizer_state: dict[str, Any]) -> dict[str, Any]:
        """An Adam state dict over separate networks' parameters (in the order of ``critic_state``, a separate
        state dict) rewritten for this stacked critic: each moment stacked like its parameter."""
        names = list(critic_state)  # the parameter order of separate networks (plain MLPs have no buffers)
        old = optimizer_state["state"]
        new_names = [name for name, _ in self.named_parameters()]
        state: dict[int, dict[str, Any]] = {}
        if old:
            per_name = {name: old[i] for i, name in enumerate(names) if i in old}
            if len(per_name) != len(names):
                raise ValueError("the critic optimizer's state covers only some of the parameters")
            step = next(iter(per_name.values()))["step"]
            moments = [k for k, v in next(iter(per_name.values())).items() if k != "step" and torch.is_tensor(v)]
            stacked = {m: self.pair.stack_states(self._members({n: s[m] for n, s in per_name.items()}))
                       for m in moments}
            for i, name in enumerate(new_names):
                state[i] = {"step": step.clone() if torch.is_tensor(step) else step,
                            **{m: stacked[m][name.removeprefix("pair.")] for m in moments}}
        groups = [dict(g, params=list(range(len(new_names)))) for g in optimizer_state["param_groups"]]
        if len(groups) != 1:
            raise ValueError(f"expected one critic parameter group, got {len(groups)}")
        return {"state": state, "param_groups": groups}


class MTSAC:
    """Multi-task SAC.

    Args:
        obs_dim, action_dim: feature sizes of one task's observation and action.
        num_tasks: ``T``.
        cfg: hyper-parameters.
        actor_surgery, critic_surgery: how per-task gradients of the shared parameters are combined (separate
            instances, since stateful methods keep per-network state).
        device: where parameters live.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        num_tasks: int,
        cfg: SACConfig,
        actor_surgery: Surgery,
        critic_surgery: Surgery,
        device: torch.device | str = "cpu",
    ) -> None:
        self.cfg = cfg
        self.num_tasks = num_tasks
        self.action_dim = action_dim
        self.device = torch.device(device)
        self.actor = Actor(obs_dim, action_dim, num_tasks, cfg).to(self.device)
        self.critic = TwinCritic(obs_dim, action_dim, num_tasks, cfg).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        # the Polyak pairs (loading a state copies into these same tensors)
        self._online_params = list(self.critic.parameters())
        self._target_params = list(self.critic_target.parameters())
        self.log_alpha = torch.full(
            (num_tasks,), math.log(cfg.init_temperature), device=self.device, requires_grad=True
        )
        self.target_entropy = float(-action_dim if cfg.target_entropy is None else cfg.target_entropy)
        check_popart(cfg.popart, cfg.popart_beta, cfg.critic.heads)
        #: per-task Q statistics; online and target heads are rescaled together (see update)
        self.popart = PopArt(num_tasks, cfg.popart_beta).to(self.device) if cfg.popart else None

        self.actor_fn = TaskBatched(self.actor, num_tasks)
        self.critic_fn = TaskBatched(self.critic, num_tasks)
        self.critic_target_fn = TaskBatched(self.critic_target, num_tasks)
        self.actor_optimizer = adam(self.actor.parameters(), cfg.actor_lr, self.device, eps=cfg.adam_eps)
        self.critic_optimizer = adam(self.critic.parameters(), cfg.critic_lr, self.device, eps=cfg.adam_eps)
        self.alpha_optimizer = adam([self.log_alpha], cfg.alpha_lr, self.device, eps=cfg.adam_eps)
        self._twin_scale = 0.5 if cfg.twin_loss == "mean" else 1.0
        self.actor_surgery = actor_surgery.to(self.device)
        self.critic_surgery = critic_surgery.to(self.device)
        self.precision = Precision(cfg.precision, self.device)
        self.actor_update = SurgeryUpdate(self.actor_fn, self.actor_surgery, self.actor_optimizer, cfg.max_grad_norm,
                                          compile=cfg.compile, precision=self.precision)
        self.critic_update = SurgeryUpdate(self.critic_fn, self.critic_surgery, self.critic_optimizer,
                                           cfg.max_grad_norm, compile=cfg.compile, precision=self.precision)
        self.target_q = MaybeCompiled(self.precision.wrap(self._target_q), cfg.compile, "the SAC target")
        self.num_updates = 0

    # ------------------------------------------------------------------ acting
    @torch.no_grad()
    def act(self, obs: Tensor, deterministic: bool = False) -> Tensor:
        """Actions for ``obs (T, E, obs_dim)`` -> ``(T, E, action_dim)`` in ``[-1, 1]``.

        ``deterministic`` returns ``tanh(mean)``; otherwise a sample from the policy (global torch RNG)."""
        with self.precision.forward():
            mean, log_std = self.actor_fn(obs)
        if deterministic:
            return torch.tanh(mean)
        action, _ = squashed_gaussian(mean, log_std, torch.randn_like(mean))
        return action

    # ------------------------------------------------------------------ losses (single-task view)
    # Reductions run over the last (batch) axis, so the same formulas give a scalar in the single-task view and
    # per-task losses (T,) in the task-batched view (the ``_batched`` functions below).
    def _critic_objective(self, q: Tensor, target_q: Tensor) -> Tensor:
        """Mean squared TD error of both critics, summed (``twin_loss: sum``) or averaged (``mean``):
        ``q (..., 2, B)``, ``target_q (..., B) -> (...)``."""
        loss = (q - target_q.unsqueeze(-2)).square().mean(-1).sum(-1)
        return loss * self._twin_scale if self._twin_scale != 1.0 else loss

    @staticmethod
    def _actor_objective(alpha: Tensor, log_prob: Tensor, q: Tensor) -> Tensor:
        """``E[α log π(a|s) - min(Q1, Q2)(s, a)]``: ``log_prob (..., B)``, ``q (..., 2, B) -> (...)`` (``alpha``
        broadcast against ``log_prob``)."""
        return (alpha * log_prob - q.amin(-2)).mean(-1)

    def _critic_loss(self, shared: Params, task: Params, obs: Tensor, action: Tensor, target_q: Tensor,
                     onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        params = {**shared, **task, **self.critic_fn.buffers}
        q, net_aux = functional_call(self.critic, params, (obs, action, onehot), {"with_aux": True})
        loss = self._critic_objective(q, target_q)
        penalty = self.critic.aux_loss(net_aux)
        if penalty is not None:
            loss = loss + penalty
        aux = {k: v.detach() for k, v in net_aux.items()}
        aux["q_mean"] = q.mean().detach()
        return loss, aux

    def _actor_loss(self, shared: Params, task: Params, obs: Tensor, noise: Tensor, alpha: Tensor,
                    critic_shared: Params, critic_task: Params, onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        params = {**shared, **task, **self.actor_fn.buffers}
        mean, log_std, net_aux = functional_call(self.actor, params, (obs, onehot), {"with_aux": True})
        action, log_prob = squashed_gaussian(mean, log_std, noise)
        q = self.critic_fn.single_task_fn()(critic_shared, critic_task, obs, action, onehot)
        loss = self._actor_objective(alpha, log_prob, q)
        penalty = self.actor.aux_loss(net_aux)
        if penalty is not None:
            loss = loss + penalty
        aux = {k: v.detach() for k, v in net_aux.items()}
        aux["log_prob"] = log_prob.mean().detach()
        return loss, aux

    # ------------------------------------------------------------------ losses (task-batched view)
    # Used by methods that need no per-task Jacobian when both networks run in the task-batched view (plain MLP
    # encoders): the live modules are called directly on (T, B, ...) tensors, with no vmap or functional_call.
    # Plain encoders have no auxiliary values or penalties.
    def _critic_losses_batched(self, obs: Tensor, action: Tensor, target_q: Tensor) -> tuple[Tensor, dict]:
        q = self.critic_fn(obs, action)  # (T, 2, B)
        return self._critic_objective(q, target_q), {"q_mean": q.mean((-2, -1)).detach()}

    def _actor_losses_batched(self, obs: Tensor, noise: Tensor, alpha: Tensor) -> tuple[Tensor, dict]:
        mean, log_std = self.actor_fn(obs)
        action, log_prob = squashed_gaussian(mean, log_std, noise)
        # the critic's parameters get no gradient: SurgeryUpdate differentiates the actor's parameters only
        q = self.critic_fn(obs, action)
        return self._actor_objective(alpha[:, None], log_prob, q), {"log_prob": log_prob.mean(-1).detach()}

    @torch.no_grad()
    def _target_q(self, next_obs: Tensor, reward: Tensor, terminated: Tensor, alpha: Tensor,
                  noise: Tensor) -> Tensor:
        """Soft clipped double-Q target ``(T, B)`` from ``next_obs (T, B, D)`` and the policy's ``noise
        (T, B, A)`` (drawn by the caller, so compiled and eager runs consume the same random numbers)."""
        next_mean, next_log_std = self.actor_fn(next_obs)
        next_action, next_log_prob = squashed_gaussian(next_mean, next_log_std, noise)
        next_q = self.critic_target_fn(next_obs, next_action)
        if self.popart is not None:
            next_q = self.popart.unnormalize(next_q)
        next_v = next_q.amin(-2) - alpha[:, None] * next_log_prob
        return reward + self.cfg.gamma * (1.0 - terminated) * next_v

    # ------------------------------------------------------------------ update
    def update(self, batch: Batch, with_diagnostics: bool = False) -> dict[str, Tensor]:
        """One gradient update of critics, actor (every ``actor_update_every``), temperatures and targets.

        Returns device tensors (no host sync): per-task losses ``(T,)``, alphas ``(T,)``, gradient norms,
        surgery weights and, with ``with_diagnostics``, the gradient-conflict statistics.
        """
        cfg = self.cfg
        T = self.num_tasks
        onehots = self.actor_fn.task_onehots(self.device)
        alpha = self.log_alpha.detach().exp()
        metrics: dict[str, Tensor] = {}

        next_noise = torch.randn(T, batch.next_obs.shape[1], self.action_dim, device=self.device)
        target_q = self.target_q(batch.next_obs, batch.reward, batch.terminated, alpha, next_noise)
        actor_alpha = alpha
        if self.popart is not None:
            target_q, actor_alpha = self._popart_step(target_q, alpha, metrics)

        critic_step, critic_aux, critic_norm = self.critic_update(
            self._critic_loss, (batch.obs, batch.action, target_q, onehots), with_diagnostics=with_diagnostics,
            batched=(self._critic_losses_batched, (batch.obs, batch.action, target_q)) if self.critic_fn.native
            else None,
        )
        metrics["critic_loss"] = critic_step.losses
        metrics["q_mean"] = critic_aux.pop("q_mean")
        for k, v in critic_aux.items():  # encoder aux (gate weights, routing entropy, balance loss): (T,) / (T, K)
            metrics[f"critic_{k}"] = v
        metrics["critic_grad_norm"] = critic_norm
        metrics["critic_task_weights"] = critic_step.task_weights
        for k, v in critic_step.diagnostics.items():
            metrics[f"critic_{k}"] = v

        if self.num_updates % cfg.actor_update_every == 0:
            # the critic is a constant of the actor loss: detached, shared part broadcast, heads sliced per task
            critic_shared = {k: v.detach() for k, v in self.critic_fn.shared.items()}
            critic_task = {k: v.detach() for k, v in self.critic_fn.task.items()}
            noise = torch.randn(T, batch.obs.shape[1], self.action_dim, device=self.device)
            actor_step, actor_aux, actor_norm = self.actor_update(
                self._actor_loss,
                (batch.obs, noise, actor_alpha, critic_shared, critic_task, onehots),
                in_dims=(0, 0, 0, None, 0, 0),
                with_diagnostics=with_diagnostics,
                batched=(self._actor_losses_batched, (batch.obs, noise, actor_alpha))
                if self.actor_fn.native and self.critic_fn.native else None,
            )
            log_prob_mean = actor_aux.pop("log_prob")
            # per-task temperature, loss -log_alpha_t (log_prob_t + H_target): its gradient in closed form (no
            # autograd pass for a (T,) vector)
            self.log_alpha.grad = -(log_prob_mean + self.target_entropy)
            optimizer_step(self.alpha_optimizer)
            metrics["actor_loss"] = actor_step.losses
            metrics["actor_grad_norm"] = actor_norm
            metrics["actor_task_weights"] = actor_step.task_weights
            metrics["entropy"] = -log_prob_mean
            for k, v in actor_aux.items():
                metrics[f"actor_{k}"] = v
            for k, v in actor_step.diagnostics.items():
                metrics[f"actor_{k}"] = v
        metrics["alpha"] = self.log_alpha.detach().exp()

        if self.num_updates % cfg.target_update_every == 0:
            with torch.no_grad():  # else the targets become non-leaf tensors whose autograd history grows each update
                torch._foreach_lerp_(self._target_params, self._online_params, cfg.tau)
        self.num_updates += 1
        return metrics

    def _popart_step(self, target_q: Tensor, alpha: Tensor, metrics: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """PopArt's part of an update: fold the TD targets ``(T, B)`` into the statistics, rescale the online
        and target critics' heads, and return ``(normalised targets (T, B), actor temperature (T,))``.

        The target heads are rescaled with the same per-task affine map as the online ones: the target critic's
        unnormalised Q-function is preserved, and since the Polyak average commutes with that map, averaging
        in normalised parameters equals averaging the unnormalised heads (the target keeps tracking the online
        critic). The actor's loss ``α log π - Q`` is taken in normalised units, ``(α/σ) log π - Q̂`` (the same
        gradient divided by ``σ_t``, as Hessel et al. 2019 normalise the policy gradient): every task's policy
        gradient has about unit scale; the temperatures' own update is unchanged."""
        assert self.popart is not None
        self.popart.update(target_q, self.critic.value_heads() + self.critic_target.value_heads())
        metrics["popart_mean"] = self.popart.mean.clone()
        metrics["popart_std"] = self.popart.std
        return self.popart.normalize(target_q), alpha / self.popart.std

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "log_alpha": self.log_alpha.detach().clone(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "alpha_optimizer": self.alpha_optimizer.state_dict(),
            "actor_surgery": self.actor_surgery.state_dict(),
            "critic_surgery": self.critic_surgery.state_dict(),
            "num_updates": self.num_updates,
            **({"popart": self.popart.state_dict()} if self.popart is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if (self.popart is not None) != ("popart" in state):  # before anything is loaded
            raise ValueError(f"agent.sac.popart is {self.popart is not None} but the checkpoint was written with "
                             f"popart {'popart' in state}")
        if self.critic.stacked and TwinCritic.is_separate_state(state["critic"]):  # written with two networks
            state = {**state, "critic_optimizer": self.critic.stack_separate_optimizer_state(
                state["critic"], state["critic_optimizer"])}
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.critic_target.load_state_dict(state["critic_target"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.alpha_optimizer.load_state_dict(state["alpha_optimizer"])
        self.actor_surgery.load_state_dict(state["actor_surgery"])
        self.critic_surgery.load_state_dict(state["critic_surgery"])
        self.num_updates = state["num_updates"]
        if self.popart is not None:
            self.popart.load_state_dict(state["popart"])

    def load_policy_state_dict(self, state: dict[str, Any]) -> None:
        """Load what acting needs (the policy) from a full agent state."""
        self.actor.load_state_dict(state["actor"])
