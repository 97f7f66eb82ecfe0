"""Multi-task SAC's hyper-parameters (:class:`SACConfig`, the ``agent.sac`` section of the config), without
torch: the agent itself is :class:`mtrl.agents.sac.MTSAC`."""

from __future__ import annotations

from dataclasses import dataclass

from envs.fields import FieldError, param
from mtrl.names import PRECISIONS
from mtrl.nets.net_config import NetConfig

LOG_STD_BOUNDS = ("tanh", "clip")
TWIN_LOSSES = ("sum", "mean")


@dataclass
class SACConfig:
    """Multi-task SAC hyper-parameters (defaults: the standard MT10 budget of the Meta-World baselines)."""

    actor_lr: float = param(3e-4, "Adam learning rate of the policy", range="(0, inf)")
    critic_lr: float = param(3e-4, "Adam learning rate of the twin critics", range="(0, inf)")
    alpha_lr: float = param(1e-4, "Adam learning rate of the per-task log-temperatures", range="(0, inf)")
    gamma: float = param(0.99, "discount factor", range="[0, 1]")
    tau: float = param(0.005, "Polyak rate of the target critics", range="(0, 1]")
    batch_size_per_task: int = param(128, "transitions per task in every gradient update", range="[1, inf)")
    init_temperature: float = param(1.0, "initial alpha of every task", range="(0, inf)")
    target_entropy: float | None = param(None, "per-task entropy target; None: -action_dim")
    max_grad_norm: float = param(1.0, "global gradient-norm clip of actor and critics (<= 0 disables)")
    actor_update_every: int = param(1, "policy (and temperature) update every k critic updates", range="[1, inf)")
    target_update_every: int = param(1, "target-critic Polyak update every k critic updates", range="[1, inf)")
    log_std_min: float = param(-5.0, "lower bound of the policy's log standard deviation")
    log_std_max: float = param(2.0, "upper bound of the policy's log standard deviation")
    log_std_bound: str = param("tanh", "how log_std is kept in its bounds: tanh (smooth rescaling) | clip (hard "
                               "clamp)", choices=LOG_STD_BOUNDS)
    twin_loss: str = param("sum", "the two critics' mean squared TD errors combined: sum | mean (the JAX "
                           "baselines)", choices=TWIN_LOSSES)
    adam_eps: float = param(1e-8, "Adam's epsilon for actor, critics and temperatures (the JAX baselines: 1e-5)",
                            range="(0, inf)")
    compile: bool = param(False, "torch.compile the update's loss and target computations (eager fallback on "
                          "failure)")
    precision: str = param("fp32", "network matmuls: fp32 | bf16 (mixed, cpu and cuda) | tf32 (cuda); see "
                           "mtrl.precision", choices=PRECISIONS, resume=True)
    popart: bool = param(False, "per-task PopArt normalisation of the critics' Q-values (needs critic.heads: "
                         "per_task)")
    popart_beta: float = param(3e-4, "PopArt statistics step size (Hessel et al. 2019)", range="(0, 1]")
    actor: NetConfig = param(factory=NetConfig, help="policy architecture")
    critic: NetConfig = param(factory=NetConfig, help="architecture of each Q-network")

    def check(self) -> None:
        """Rules between fields (each field's own range is declared above)."""
        if not self.log_std_min < self.log_std_max:
            raise FieldError("log_std_min", f"log_std_min must be < log_std_max={self.log_std_max}, "
                             f"got {self.log_std_min}")
        from mtrl.nets.popart import check_popart

        try:
            check_popart(self.popart, self.popart_beta, self.critic.heads)
        except ValueError as err:
            raise FieldError("popart", str(err)) from err
