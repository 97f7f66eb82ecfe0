"""Typed run configuration, loaded from YAML with dotted command-line overrides.

The schema is the dataclasses below (every field has a default and a one-line meaning). YAML files in
``configs/`` override the defaults and ``key=value`` arguments override the YAML. Unknown keys and values of
the wrong type are errors that name the key.

A YAML file may start from another with ``base: other.yaml`` (a path relative to the file, else to the working
directory; as a compare config names its base): the base is loaded first (itself with its own ``base``, if any)
and the file's values are merged over it, so ``configs/arch_*.yaml`` hold only what differs from their MT10/MT50
config. Nested sections merge key by key; a list replaces the base's list.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from envs.config import EnvConfig
from envs.fields import FieldError, check_tree, param, resume_changes
from mtrl.agents.ppo_config import PPOConfig
from mtrl.agents.sac_config import SACConfig
from mtrl.errors import ConfigError
from mtrl.names import AGENT_EXTRAS, AGENT_NAMES


@dataclass
class SideSurgeryConfig:
    """The method of one side (actor or critics); unset fields fall back to ``surgery.name``/``surgery.options``."""

    name: str | None = param(None, "method of this side; None: surgery.name")
    options: dict[str, Any] | None = param(None, "its options; None: surgery.options if name is None, else none")


@dataclass
class SurgeryConfig:
    """Which gradient-surgery method combines the per-task gradients of the shared parameters, per side.

    ``name``/``options`` apply to both sides unless ``actor``/``critic`` name their own method:
    ``surgery: {actor: {name: pcgrad}, critic: {name: fairgrad, options: {alpha: 1.0}}}``. The older form with
    booleans (``actor: false``: the actor uses the mean) still loads: :func:`normalize_surgery_layer` rewrites
    each YAML layer and override before the merge (``false`` -> ``{name: mean}``, ``true`` -> both fields unset).
    """

    name: str = param("mean", "method of both sides (see `mtrl.surgery.list_methods()`), or torchjd:<Aggregator>")
    options: dict[str, Any] = param(factory=dict, help="its options, named as in the method's paper")
    actor: SideSurgeryConfig = param(factory=SideSurgeryConfig, help="the actor's own method, if any")
    critic: SideSurgeryConfig = param(factory=SideSurgeryConfig, help="the critics' own method, if any")
    diagnostics_every: int = param(1000, "log gradient-conflict statistics every k updates (0 disables)",
                                   range="[0, inf)", resume=True)

    def method(self, side: str) -> tuple[str, dict[str, Any]]:
        """``(name, options)`` of ``side`` (``"actor"`` or ``"critic"``) after the fall-backs."""
        own: SideSurgeryConfig = getattr(self, side)
        if own.name is None:
            return self.name, dict(own.options if own.options is not None else self.options)
        return own.name, dict(own.options or {})

    def label(self) -> str:
        """Short name of the methods: ``pcgrad``, or ``actor=pcgrad,critic=fairgrad`` when the sides differ."""
        actor, critic = self.method("actor")[0], self.method("critic")[0]
        return actor if actor == critic else f"actor={actor},critic={critic}"


def normalize_surgery_layer(layer: Any) -> Any:
    """Rewrite the older ``surgery.actor``/``surgery.critic`` booleans of one config layer (a loaded YAML file, a
    dotlist of overrides, a recorded config.yaml) into the per-side form, in place: ``false`` becomes
    ``{name: mean, options: null}`` (that side uses the mean), ``true`` becomes ``{name: null, options: null}`` (that
    side uses ``surgery.name``). Structured configs cannot hold a ``bool | dataclass`` union, hence this step."""
    surgery = layer.get("surgery") if OmegaConf.is_dict(layer) else None
    if not OmegaConf.is_dict(surgery):
        return layer
    for side in ("actor", "critic"):
        value = surgery.get(side)
        if isinstance(value, bool):
            surgery[side] = {"name": None, "options": None} if value else {"name": "mean", "options": None}
    return layer


@dataclass
class AgentConfig:
    """The learning algorithm."""

    name: str = param("mtsac", "mtsac | mtppo | sb3_sac_per_task | sb3_ppo_per_task (one Stable-Baselines3 agent "
                      "per task)", choices=AGENT_NAMES)
    sac: SACConfig = param(factory=SACConfig, help="SAC hyper-parameters (agent.name=mtsac, sb3_sac_per_task)")
    ppo: PPOConfig = param(factory=PPOConfig, help="PPO hyper-parameters (agent.name=mtppo, sb3_ppo_per_task)")

    def check(self) -> None:
        if self.name in AGENT_EXTRAS:
            module, package, extra = AGENT_EXTRAS[self.name]
            if importlib.util.find_spec(module) is None:
                raise FieldError("name", f"agent.name={self.name} needs {package}: pip install 'mtrl[{extra}]'")


@dataclass
class TrainConfig:
    """The training loop. Step counts are environment steps per task (one vector-env step = one per task).
    Fields marked ``resume=True`` may be edited in a run's config.yaml before ``--resume``."""

    total_steps_per_task: int = param(2_000_000, "training budget in env steps per task (the standard MT10 budget)",
                                      range="[1, inf)", resume=True)
    random_steps_per_task: int = param(5_000, "uniformly random actions first; gradient updates start after them",
                                       range="[0, inf)")
    updates_per_step: int = param(1, "gradient updates per vector-env step", range="[1, inf)")
    overlap_updates: bool = param(False, "off-policy: run a step's updates while the envs step (async envs gain "
                                  "most)")
    buffer_capacity_per_task: int = param(200_000, "replay transitions kept per task", range="[1, inf)")
    eval_every: int = param(100_000, "run the evaluation protocol every k steps per task (0: only at the end)",
                            range="[0, inf)", resume=True)
    eval_episodes: int = param(50, "evaluation episodes per task (the official protocol: 50, one per goal)",
                               range="[1, inf)", resume=True)
    log_every: int = param(5_000, "write metrics every k steps per task (rounded to episode boundaries)",
                           range="[1, inf)", resume=True)
    checkpoint_every: int = param(100_000, "save a checkpoint every k steps per task (at episode boundaries)",
                                  range="[1, inf)", resume=True)
    keep_checkpoints: int = param(3, "how many recent checkpoints to keep", range="[1, inf)", resume=True)
    save_buffer: bool = param(True, "include the replay buffer in checkpoints (needed for exact resume)",
                              resume=True)
    progress: bool = param(True, "show a progress bar", resume=True)


@dataclass
class WandbConfig:
    """Weights & Biases: the run's scalars (the same as TensorBoard's) and its config, as CleanRL and the JAX
    Meta-World baselines log them. Off unless ``project`` is set; wandb is imported only then."""

    project: str | None = param(None, "W&B project to log to; None: no W&B logging", resume=True)
    mode: str = param("online", "online (streams to the server) | offline (files under WANDB_DIR, or the run "
                      "directory, for `wandb sync` later)", choices=("online", "offline"), resume=True)
    entity: str | None = param(None, "W&B user or team; None: the account's default", resume=True)

    def check(self) -> None:
        if self.project is not None and not self.project.strip():
            raise FieldError("project", "project: give a W&B project name, or null to turn W&B off")
        if self.project is not None and importlib.util.find_spec("wandb") is None:
            raise FieldError("project", "project: logging to W&B needs wandb: pip install 'mtrl[wandb]'")


@dataclass
class LoggerConfig:
    """Where the run's scalars go besides TensorBoard and metrics.jsonl (always written)."""

    wandb: WandbConfig = param(factory=WandbConfig, help="Weights & Biases (optional extra mtrl[wandb])")


@dataclass
class RunConfig:
    """A whole training run."""

    name: str = param("run", "run name, used for the default run directory", resume=True)
    seed: int = param(0, "seeds torch, numpy, python and the environments", range="[0, inf)")
    device: str = param("auto", "auto (cuda if available) | cpu | cuda | cuda:N", resume=True)
    run_dir: str | None = param(None, "where outputs go; default runs/<name>-seed<seed>; must not hold another run",
                                resume=True)
    deterministic: bool = param(True, "deterministic torch kernels (exact CPU reproducibility)")
    env: EnvConfig = param(factory=EnvConfig, help="environments")
    agent: AgentConfig = param(factory=AgentConfig, help="algorithm")
    surgery: SurgeryConfig = param(factory=SurgeryConfig, help="gradient surgery")
    train: TrainConfig = param(factory=TrainConfig, help="training loop")
    logger: LoggerConfig = param(factory=LoggerConfig, help="experiment tracking besides TensorBoard")

    def check(self) -> None:
        if not (self.device in ("auto", "cpu") or re.fullmatch(r"cuda(:\d+)?", self.device)):
            raise FieldError("device", f"device: expected auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.run_dir and Path(self.run_dir).exists() and not Path(self.run_dir).is_dir():
            raise FieldError("run_dir", f"run_dir {self.run_dir!r} is an existing file, not a directory")
        self._check_surgery()
        self._check_precision()

    def _check_precision(self) -> None:
        """The agents' precisions run on the run's device (tf32 needs CUDA)."""
        import torch

        from mtrl.precision import check_precision

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        for key, precision in (("agent.sac.precision", self.agent.sac.precision),
                               ("agent.ppo.precision", self.agent.ppo.precision)):
            try:
                check_precision(precision, device)
            except ValueError as err:
                raise FieldError(key, f"{key}: {str(err).removeprefix('precision: ')}") from err

    def _check_surgery(self) -> None:
        """Build the method once, so that unknown names and options and bad option values fail here."""
        from mtrl.surgery import make_surgery

        for side in ("actor", "critic"):
            name, options = self.surgery.method(side)
            try:
                make_surgery(name, max(self.env.num_tasks, 1), **options)
            except (ValueError, TypeError, ImportError) as err:
                raise FieldError(f"surgery.{side}", f"surgery.{side}: {str(err).splitlines()[0]}") from err


def _format_omegaconf_error(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None)
    msg = str(err).splitlines()[0]
    return f"{msg} (key: {key})" if key and str(key) not in msg else msg


def resolve_base(config_path: Path, base: str) -> Path:
    """The file that ``base: <base>`` in ``config_path`` names: relative to the config's directory if it exists
    there, else as given (relative to the working directory)."""
    beside = config_path.parent / base
    return beside if beside.is_file() else Path(base)


def _yaml_layers(path: Path, children: tuple[Path, ...] = ()) -> list[Any]:
    """The YAML layers of ``path``, its ``base`` chain first, each without its ``base`` key."""
    if not path.is_file():
        raise ConfigError(f"{children[-1]}: base config {path} not found" if children
                          else f"config file not found: {path}")
    if path.resolve() in {child.resolve() for child in children}:
        chain = " -> ".join(str(p) for p in (*children, path))
        raise ConfigError(f"{children[0]}: base configs form a cycle: {chain}")
    try:
        loaded = OmegaConf.load(path)
    except Exception as err:  # yaml errors come in many types
        raise ConfigError(f"malformed config {path}: {_yaml_error(err)}") from err
    if not OmegaConf.is_dict(loaded):
        raise ConfigError(f"malformed config {path}: the top level must be a mapping")
    if not loaded:  # an empty file would silently train the full default MT10 run
        raise ConfigError(f"empty config file {path}: give at least the settings that differ from the defaults")
    base = loaded.pop("base", None)
    if base is None:
        return [normalize_surgery_layer(loaded)]
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: base must name a training config file, got {base!r}")
    return [*_yaml_layers(resolve_base(path, base), (*children, path)), normalize_surgery_layer(loaded)]


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Load ``path`` (YAML, after its ``base`` chain; None: defaults only), apply ``key=value`` overrides,
    validate, and return the typed config. Raises :class:`~mtrl.errors.ConfigError` with a one-line message on
    any problem."""
    schema = OmegaConf.structured(RunConfig)
    layers = [schema]
    if path is not None:
        path = Path(path)
        layers += _yaml_layers(path)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value")
    try:
        if overrides:
            layers.append(normalize_surgery_layer(OmegaConf.from_dotlist(list(overrides))))
        merged = OmegaConf.merge(*layers)
        cfg: RunConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as err:
        where = f" in {path}" if path is not None else ""
        raise ConfigError(f"invalid config{where}: {_format_omegaconf_error(err)}") from err
    validate(cfg)
    return cfg


def validate(cfg: RunConfig) -> None:
    """The validation pass (every declared range and choice, then the rules between fields); raises
    :class:`ConfigError` with a one-line message naming the field."""
    try:
        check_tree(cfg)
    except ValueError as err:
        raise ConfigError(str(err).splitlines()[0]) from err


def to_yaml(cfg: RunConfig) -> str:
    """The fully resolved config as YAML (what a run directory records)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def from_yaml_text(text: str, source: str = "recorded config") -> RunConfig:
    """Parse a resolved config written by :func:`to_yaml` (used by resume and evaluate); ``source`` names it in
    errors."""
    try:
        recorded = OmegaConf.create(text)
    except Exception as err:  # yaml errors come in many types
        raise ConfigError(f"malformed {source}: {_yaml_error(err)}") from err
    if not OmegaConf.is_dict(recorded):
        raise ConfigError(f"malformed {source}: the top level must be a mapping")
    recorded = normalize_surgery_layer(recorded)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(RunConfig), recorded)
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as err:
        raise ConfigError(f"invalid {source}: {_format_omegaconf_error(err)}") from err


def _yaml_error(err: Exception) -> str:
    """One line for a YAML parse error: the problem and where it is."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def check_resume_config(recorded: RunConfig, edited: RunConfig, where: str) -> list[str]:
    """Compare the config a checkpoint was made with (``recorded``) with the run's config.yaml (``edited``).

    Fields declared with ``resume=True`` (the budget, logging/eval/checkpoint cadence, eval episodes, progress bar,
    device, ...) may change and take effect; any other change raises :class:`ConfigError` naming the first changed
    field. Returns the allowed changes as ``"name: old -> new"`` lines (for the log)."""
    allowed: list[str] = []
    for name, old, new, may_change in resume_changes(recorded, edited):
        if not may_change:
            raise ConfigError(
                f"config.yaml changes {name} from {old!r} ({where}) to {new!r}; it cannot change on resume "
                f"(allowed: {', '.join(resumable_fields())}); restore it or start a new run"
            )
        allowed.append(f"{name}: {old!r} -> {new!r}")
    return allowed


def resumable_fields(section: Any = None, prefix: str = "") -> list[str]:
    """Dotted names of the fields that may change when a run is resumed (declared ``resume=True``)."""
    import dataclasses

    section = RunConfig() if section is None else section
    names: list[str] = []
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            names += resumable_fields(value, f"{prefix}{f.name}.")
        elif f.metadata.get("resume"):
            names.append(prefix + f.name)
    return names
