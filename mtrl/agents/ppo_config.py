"""Multi-task PPO's hyper-parameters (:class:`PPOConfig`, the ``agent.ppo`` section of the config), without
torch: the agent itself is :class:`mtrl.agents.ppo.MTPPO`."""

from __future__ import annotations

from dataclasses import dataclass

from envs.fields import FieldError, param
from mtrl.names import PRECISIONS
from mtrl.nets.net_config import NetConfig


@dataclass
class PPOConfig:
    """Multi-task PPO hyper-parameters. The rollout of one update is one full episode of every sub-env (use
    ``env.envs_per_task`` to collect more per update)."""

    lr: float = param(5e-4, "Adam learning rate of actor and critic", range="(0, inf)")
    anneal_lr: bool = param(True, "anneal the learning rate linearly to 0 over the run")
    gamma: float = param(0.99, "discount factor", range="[0, 1]")
    gae_lambda: float = param(0.97, "GAE lambda", range="[0, 1]")
    epochs: int = param(16, "passes over each rollout", range="[1, inf)")
    minibatches: int = param(32, "task-stratified minibatches per epoch", range="[1, inf)")
    clip_coef: float = param(0.2, "PPO ratio clip", range="(0, inf)")
    clip_value_loss: bool = param(True, "clip the value update around the rollout's values (clip_coef)")
    vf_coef: float = param(0.5, "value-loss coefficient", range="[0, inf)")
    ent_coef: float = param(5e-3, "entropy bonus coefficient", range="[0, inf)")
    max_grad_norm: float = param(0.5, "global gradient-norm clip of actor and critic (<= 0 disables)")
    target_kl: float | None = param(None, "stop an update's epochs early once the mean approximate KL exceeds this",
                                    range="(0, inf)")
    normalize_obs: bool = param(True, "running mean/std observation normalisation per task")
    normalize_advantages: bool = param(True, "normalise advantages per task")
    init_log_std: float = param(0.0, "initial log standard deviation of the policy")
    compile: bool = param(False, "torch.compile the minibatch loss computations (eager fallback on failure)")
    precision: str = param("fp32", "network matmuls: fp32 | bf16 (mixed, cpu and cuda) | tf32 (cuda); see "
                           "mtrl.precision", choices=PRECISIONS, resume=True)
    popart: bool = param(False, "per-task PopArt normalisation of the value function (needs critic.heads: "
                         "per_task)")
    popart_beta: float = param(3e-4, "PopArt statistics step size (Hessel et al. 2019)", range="(0, 1]")
    actor: NetConfig = param(factory=lambda: NetConfig(hidden_sizes=[400, 400, 400]), help="policy net")
    critic: NetConfig = param(factory=lambda: NetConfig(hidden_sizes=[400, 400, 400]), help="value net")

    def check(self) -> None:
        """Rules between fields (each field's own range is declared above)."""
        from mtrl.nets.popart import check_popart

        try:
            check_popart(self.popart, self.popart_beta, self.critic.heads)
        except ValueError as err:
            raise FieldError("popart", str(err)) from err
