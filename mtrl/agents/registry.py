"""The agents ``agent.name`` selects, and how each one is built, trained and evaluated.

Two kinds of entry:

* a multi-task agent (``mtsac``, ``mtppo``): ``build`` makes one :class:`~mtrl.agents.base.Agent` for all tasks and
  ``loop`` the :class:`~mtrl.loops.Loop` that feeds it; the :class:`~mtrl.train.Trainer` drives both, and
  ``mtrl evaluate`` rebuilds the agent from a checkpoint;
* an arm with a runner of its own (``sb3_sac_per_task``, ``sb3_ppo_per_task``: one Stable-Baselines3 agent per
  task, :mod:`mtrl.agents.sb3_baseline`): ``train`` runs the whole run and ``evaluate`` evaluates its checkpoints.

Every entry names the section of :class:`~mtrl.config.AgentConfig` holding its hyper-parameters (``sac`` or
``ppo``), and so its precision. The names are also :data:`mtrl.names.AGENT_NAMES`, which the config validates
against without importing torch; a test checks that the two agree.

Adding an agent: its hyper-parameter dataclass as a section of ``AgentConfig`` (a torch-free module, like
:mod:`mtrl.agents.sac_config`), its name in ``AGENT_NAMES``, and an entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from mtrl.agents.base import Agent

if TYPE_CHECKING:
    from envs.base import EnvInfo
    from mtrl.config import RunConfig
    from mtrl.evaluate import EvalResult
    from mtrl.loops import Loop
    from mtrl.surgery.base import Surgery

BuildAgent = Callable[["RunConfig", int, int, int, torch.device], Agent]  # (cfg, obs_dim, action_dim, T, device)
BuildLoop = Callable[["RunConfig", "EnvInfo", Agent, torch.device], "Loop"]  # (cfg, env info, agent, device)
TrainRun = Callable[["RunConfig", Path, bool], "EvalResult"]  # (cfg, run_dir, resume) -> final evaluation
EvaluateRun = Callable[[Path, int, "Path | None", str, bool], "EvalResult"]  # mtrl evaluate's arguments


@dataclass(frozen=True)
class AgentSpec:
    """How mtrl handles one ``agent.name``: ``build`` and ``loop`` (a multi-task agent the Trainer drives), or
    ``train`` and ``evaluate`` (a runner of its own)."""

    section: str  # "sac" | "ppo": its hyper-parameters, cfg.agent.<section>
    build: BuildAgent | None = None
    loop: BuildLoop | None = None
    train: TrainRun | None = None
    evaluate: EvaluateRun | None = None

    def __post_init__(self) -> None:
        trainer, runner = self.build is not None, self.train is not None
        if (self.loop is not None) != trainer or (self.evaluate is not None) != runner or trainer == runner:
            raise ValueError("an agent has either build and loop (the Trainer's) or train and evaluate (its own)")

    def hyper_parameters(self, cfg: RunConfig) -> Any:
        """``cfg.agent.sac`` or ``cfg.agent.ppo``, as the agent uses."""
        return getattr(cfg.agent, self.section)

    def precision(self, cfg: RunConfig) -> str:
        """The agent's ``precision`` (what ``run.json`` records)."""
        return self.hyper_parameters(cfg).precision


def _surgeries(cfg: RunConfig, num_tasks: int) -> dict[str, Surgery]:
    """The actor's and the critics' surgery methods, as the config names them (the actor's built first)."""
    from mtrl.surgery import make_surgery

    def method(side: str) -> Surgery:
        name, options = cfg.surgery.method(side)
        return make_surgery(name, num_tasks, **options)

    actor = method("actor")
    return {"actor_surgery": actor, "critic_surgery": method("critic")}


def _build_mtsac(cfg: RunConfig, obs_dim: int, action_dim: int, num_tasks: int, device: torch.device) -> Agent:
    from mtrl.agents.sac import MTSAC

    return MTSAC(obs_dim, action_dim, num_tasks, cfg.agent.sac, **_surgeries(cfg, num_tasks), device=device)


def _build_mtppo(cfg: RunConfig, obs_dim: int, action_dim: int, num_tasks: int, device: torch.device) -> Agent:
    from mtrl.agents.ppo import MTPPO

    return MTPPO(obs_dim, action_dim, num_tasks, cfg.agent.ppo, **_surgeries(cfg, num_tasks), device=device)


def _off_policy_loop(cfg: RunConfig, info: EnvInfo, agent: Agent, device: torch.device) -> Loop:
    from mtrl.loops.off_policy import OffPolicyLoop

    return OffPolicyLoop(cfg, info, agent, device)


def _on_policy_loop(cfg: RunConfig, info: EnvInfo, agent: Agent, device: torch.device) -> Loop:
    from mtrl.loops.on_policy import OnPolicyLoop

    return OnPolicyLoop(cfg, info, agent, device)


def _train_sb3(cfg: RunConfig, run_dir: Path, resume: bool) -> EvalResult:
    from mtrl.agents.sb3_baseline import train_sb3_baseline  # imports stable-baselines3 (an optional extra)

    return train_sb3_baseline(cfg, run_dir, resume=resume)


def _evaluate_sb3(target: Path, episodes: int, output: Path | None, device: str, verbose: bool) -> EvalResult:
    from mtrl.agents.sb3_baseline import evaluate_sb3_target

    return evaluate_sb3_target(target, episodes, output, device, verbose)


AGENTS: dict[str, AgentSpec] = {
    "mtsac": AgentSpec("sac", build=_build_mtsac, loop=_off_policy_loop),
    "mtppo": AgentSpec("ppo", build=_build_mtppo, loop=_on_policy_loop),
    "sb3_sac_per_task": AgentSpec("sac", train=_train_sb3, evaluate=_evaluate_sb3),
    "sb3_ppo_per_task": AgentSpec("ppo", train=_train_sb3, evaluate=_evaluate_sb3),
}


def agent_spec(name: str) -> AgentSpec:
    """The registry entry of ``name``; raises ``ValueError`` listing the valid names for an unknown one."""
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; valid: {', '.join(AGENTS)}")
    return AGENTS[name]


def build_agent(cfg: RunConfig, obs_dim: int, action_dim: int, num_tasks: int, device: torch.device) -> Agent:
    """The multi-task agent named by ``cfg.agent.name`` with its surgery methods, as the config says."""
    spec = agent_spec(cfg.agent.name)
    if spec.build is None:
        raise ValueError(f"agent.name={cfg.agent.name} trains one agent per task with its own runner; it has no "
                         f"multi-task agent to build")
    return spec.build(cfg, obs_dim, action_dim, num_tasks, device)


def build_loop(cfg: RunConfig, info: EnvInfo, agent: Agent, device: torch.device) -> Loop:
    """The training loop of the configured agent (off-policy for SAC, on-policy for PPO)."""
    spec = agent_spec(cfg.agent.name)
    if spec.loop is None:
        raise ValueError(f"agent.name={cfg.agent.name} has its own runner, not a loop of the Trainer")
    return spec.loop(cfg, info, agent, device)
