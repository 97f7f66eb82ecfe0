"""Typed run configuration, loaded from YAML with dotted command-line overrides.

The schema is the dataclasses below (every field has a default and a one-line meaning). YAML files in
``configs/`` override the defaults and ``key=value`` arguments override the YAML. Unknown keys and values of
the wrong type are errors that name the key.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from envs.config import EnvConfig
from mtrl.agents.ppo import PPOConfig
from mtrl.agents.sac import SACConfig
from mtrl.errors import ConfigError


@dataclass
class SurgeryConfig:
    """Which gradient-surgery method combines the per-task gradients of the shared parameters."""

    name: str = "mean"  # method name (see `mtrl.surgery.list_methods()`), or torchjd:<Aggregator>
    options: dict[str, Any] = field(default_factory=dict)  # method options, named as in the method's paper
    actor: bool = True  # apply the method to the actor (False: the actor uses the mean)
    critic: bool = True  # apply the method to the critics (False: the critics use the mean)
    diagnostics_every: int = 1000  # log gradient-conflict statistics every k updates (0 disables)


@dataclass
class AgentConfig:
    """The learning algorithm."""

    name: str = "mtsac"  # mtsac | mtppo | sb3_sac_per_task | sb3_ppo_per_task (one Stable-Baselines3 agent per task)
    sac: SACConfig = field(default_factory=SACConfig)  # SAC hyper-parameters (agent.name=mtsac, sb3_sac_per_task)
    ppo: PPOConfig = field(default_factory=PPOConfig)  # PPO hyper-parameters (agent.name=mtppo, sb3_ppo_per_task)


@dataclass
class TrainConfig:
    """The training loop. Step counts are environment steps per task (one vector-env step = one per task)."""

    total_steps_per_task: int = 2_000_000  # training budget in env steps per task (the standard MT10 budget)
    random_steps_per_task: int = 5_000  # uniformly random actions first; gradient updates start after them
    updates_per_step: int = 1  # gradient updates per vector-env step
    overlap_updates: bool = False  # off-policy: run a step's updates while the envs step (async envs gain most)
    buffer_capacity_per_task: int = 200_000  # replay transitions kept per task
    eval_every: int = 100_000  # run the evaluation protocol every k steps per task (0: only at the end)
    eval_episodes: int = 50  # evaluation episodes per task (the official protocol: 50, one per goal)
    log_every: int = 5_000  # write metrics every k steps per task (rounded to episode boundaries)
    checkpoint_every: int = 100_000  # save a checkpoint every k steps per task (at episode boundaries)
    keep_checkpoints: int = 3  # how many recent checkpoints to keep
    save_buffer: bool = True  # include the replay buffer in checkpoints (needed for exact resume)
    progress: bool = True  # show a progress bar


@dataclass
class RunConfig:
    """A whole training run."""

    name: str = "run"  # run name, used for the default run directory
    seed: int = 0  # seeds torch, numpy, python and the environments
    device: str = "auto"  # auto (cuda if available) | cpu | cuda | cuda:N
    run_dir: str | None = None  # where outputs go; default runs/<name>-seed<seed>; must not hold another run
    deterministic: bool = True  # deterministic torch kernels (exact CPU reproducibility)
    env: EnvConfig = field(default_factory=EnvConfig)  # environments
    agent: AgentConfig = field(default_factory=AgentConfig)  # algorithm
    surgery: SurgeryConfig = field(default_factory=SurgeryConfig)  # gradient surgery
    train: TrainConfig = field(default_factory=TrainConfig)  # training loop


def _format_omegaconf_error(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None)
    msg = str(err).splitlines()[0]
    return f"{msg} (key: {key})" if key and str(key) not in msg else msg


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Load ``path`` (YAML; None: defaults only), apply ``key=value`` overrides, validate, and return the typed
    config. Raises :class:`~mtrl.errors.ConfigError` with a one-line message on any problem."""
    schema = OmegaConf.structured(RunConfig)
    layers = [schema]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            loaded = OmegaConf.load(path)
        except Exception as err:  # yaml errors come in many types
            raise ConfigError(f"malformed config {path}: {str(err).splitlines()[0]}") from err
        if not OmegaConf.is_dict(loaded):
            raise ConfigError(f"malformed config {path}: the top level must be a mapping")
        layers.append(loaded)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value")
    try:
        if overrides:
            layers.append(OmegaConf.from_dotlist(list(overrides)))
        merged = OmegaConf.merge(*layers)
        cfg: RunConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as err:
        where = f" in {path}" if path is not None else ""
        raise ConfigError(f"invalid config{where}: {_format_omegaconf_error(err)}") from err
    validate(cfg)
    return cfg


AGENTS = ("mtsac", "mtppo", "sb3_sac_per_task", "sb3_ppo_per_task")


def validate(cfg: RunConfig) -> None:
    """Semantic checks beyond types; raises :class:`ConfigError` naming the field."""
    try:
        cfg.env.validate()
    except ValueError as err:
        raise ConfigError(f"env: {err}") from err
    if cfg.agent.name not in AGENTS:
        raise ConfigError(f"agent.name: unknown agent {cfg.agent.name!r}; valid: {', '.join(AGENTS)}")
    if cfg.agent.name.startswith("sb3_") and importlib.util.find_spec("stable_baselines3") is None:
        raise ConfigError(f"agent.name={cfg.agent.name} needs stable-baselines3: pip install 'mtrl[sb3]'")
    t = cfg.train
    positive = {
        "train.total_steps_per_task": t.total_steps_per_task,
        "train.updates_per_step": t.updates_per_step,
        "train.buffer_capacity_per_task": t.buffer_capacity_per_task,
        "train.eval_episodes": t.eval_episodes,
        "train.log_every": t.log_every,
        "train.checkpoint_every": t.checkpoint_every,
        "train.keep_checkpoints": t.keep_checkpoints,
        "agent.sac.batch_size_per_task": cfg.agent.sac.batch_size_per_task,
        "agent.ppo.epochs": cfg.agent.ppo.epochs,
        "agent.ppo.minibatches": cfg.agent.ppo.minibatches,
    }
    for key, value in positive.items():
        if value < 1:
            raise ConfigError(f"{key} must be >= 1, got {value}")
    if t.random_steps_per_task < 0 or t.eval_every < 0:
        raise ConfigError("train.random_steps_per_task and train.eval_every must be >= 0")
    if not (cfg.device == "auto" or cfg.device == "cpu" or cfg.device.startswith("cuda")):
        raise ConfigError(f"device: expected auto, cpu, cuda or cuda:N, got {cfg.device!r}")
    from mtrl.nets.popart import check_popart

    for name, agent in (("sac", cfg.agent.sac), ("ppo", cfg.agent.ppo)):
        for net in ("actor", "critic"):
            try:
                getattr(agent, net).validate()
            except ValueError as err:
                raise ConfigError(f"agent.{name}.{net}: {err}") from err
        try:
            check_popart(agent.popart, agent.popart_beta, agent.critic.heads)
        except ValueError as err:
            raise ConfigError(f"agent.{name}.{err}") from err
    from mtrl.surgery import make_surgery

    try:
        make_surgery(cfg.surgery.name, max(cfg.env.num_tasks, 1), **cfg.surgery.options)
    except (ValueError, ImportError) as err:
        raise ConfigError(f"surgery: {err}") from err


def to_yaml(cfg: RunConfig) -> str:
    """The fully resolved config as YAML (what a run directory records)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def from_yaml_text(text: str) -> RunConfig:
    """Parse a resolved config written by :func:`to_yaml` (used by resume and evaluate)."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(RunConfig), OmegaConf.create(text))
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as err:
        raise ConfigError(f"invalid recorded config: {_format_omegaconf_error(err)}") from err
