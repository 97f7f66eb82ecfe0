"""The single-task baseline arm: one Stable-Baselines3 SAC or PPO per task (``agent.name=sb3_sac_per_task`` |
``sb3_ppo_per_task``), the "one SAC per task" reference of multi-task papers.

Each task gets its own SB3 agent, trained on that task's single-task env (:func:`envs.single_task
.make_single_task_env`: the same Meta-World task, fixed goals, reward version and episode length as the multi-task
env of the config and seed), with the config's budget per task and the hyper-parameters of ``agent.sac`` or
``agent.ppo`` mapped onto SB3's (:func:`build_model`). The tasks are trained in lockstep, one chunk of
``train.log_every`` steps per task after another, so that metrics, evaluations and checkpoints refer to the same
step of every task, as in a multi-task run. Evaluation is mtrl's protocol (:func:`mtrl.evaluate.evaluate`) on the
multi-task evaluation env, with the per-task policies combined by :class:`SB3PerTaskPolicy`.

The run directory has the files of ``mtrl train`` (``config.yaml``, ``env.json``, ``metrics.jsonl`` and ``tb/``
with per-task success, ``eval.json`` and ``evals.jsonl``), so ``mtrl compare`` and ``mtrl report`` treat it like any
other run, and ``mtrl evaluate RUN_DIR`` re-evaluates its newest checkpoint. A checkpoint is a directory
``checkpoints/sb3_<step>/`` holding each task's SB3 ``<task>.zip`` (loadable with ``SAC.load`` / ``PPO.load``), the
observation statistics of PPO's normalisation (``<task>.obs_norm.json``) and ``meta.json``; every file and the
directory itself appear atomically. Replay buffers are not saved: these runs cannot be resumed (a sweep restarts an
interrupted one).

What differs from MTSAC / MTPPO because SB3 has no such option: no gradient-norm clipping in SAC
(``agent.sac.max_grad_norm`` is ignored), log-std bounds ``[-20, 2]`` (clamped) instead of ``[log_std_min,
log_std_max]`` (tanh-scaled), no delayed actor updates (``actor_update_every`` is ignored), PPO's advantages are
normalised per minibatch rather than per task. Only the hidden sizes and activation of ``agent.*.actor`` and
``agent.*.critic`` are used (a plain MLP per task); ``surgery`` does not apply.
"""

from __future__ import annotations

import functools
import json
import math
import os
import secrets
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import update_learning_rate
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from envs import make_env
from envs.base import EnvInfo
from envs.single_task import make_single_task_env
from mtrl.config import RunConfig, from_yaml_text, to_yaml
from mtrl.errors import CheckpointError, RunDirError
from mtrl.evaluate import EvalResult, evaluate
from mtrl.nets.layers import ACTIVATIONS
from mtrl.runs.cadence import Cadence, whole_episodes
from mtrl.runs.checkpoint import atomic_write, atomic_write_text, check_same_run
from mtrl.runs.device import resolve_device, seed_everything
from mtrl.runs.directory import own_eval_path, read_run_config
from mtrl.runs.evaluations import record_evaluation, record_training_evaluation
from mtrl.runs.layout import CHECKPOINT_DIR, EVAL_FILE, SB3_CHECKPOINT_PREFIX
from mtrl.runs.lock import run_dir_lock
from mtrl.runs.logger import RunLogger, flatten_metrics
from mtrl.runs.record import write_env_record

SB3_AGENTS = {"sb3_sac_per_task": "sac", "sb3_ppo_per_task": "ppo"}  # agent.name -> SB3 algorithm
META_FILE = "meta.json"
FORMAT_VERSION = 1


class _WholeBudget:
    """The run's whole budget as the horizon of SB3's schedules (PPO's annealed learning rate): the runner calls
    ``learn`` once per chunk, and SB3 would anneal over each call's own steps."""

    budget_steps: int | None = None

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        super()._update_current_progress_remaining(num_timesteps, self.budget_steps or total_timesteps)  # type: ignore[misc]


class BaselineSAC(_WholeBudget, SAC):
    """SB3's SAC with separate learning rates for the actor, the critics and the temperature (SB3 uses one for
    all three, MTSAC's config has three; ``None`` keeps SB3's behaviour). Its ``.zip`` loads with ``SAC.load``."""

    actor_lr: float | None = None
    critic_lr: float | None = None
    alpha_lr: float | None = None

    def _update_learning_rate(self, optimizers: list[torch.optim.Optimizer] | torch.optim.Optimizer) -> None:
        if self.actor_lr is None or not isinstance(optimizers, list):
            return super()._update_learning_rate(optimizers)
        # SAC.train passes [actor, critic] (+ the temperature's when it is learned), in this order
        self.logger.record("train/learning_rate", self.actor_lr)
        for optimizer, lr in zip(optimizers, (self.actor_lr, self.critic_lr, self.alpha_lr), strict=False):
            update_learning_rate(optimizer, lr)


class BaselinePPO(_WholeBudget, PPO):
    """SB3's PPO whose learning-rate schedule spans the whole budget. Its ``.zip`` loads with ``PPO.load``."""


@dataclass
class ObsNormalizer:
    """A frozen copy of ``VecNormalize``'s observation normalisation: ``clip((obs - mean) / sqrt(var + eps))``."""

    mean: np.ndarray
    var: np.ndarray
    clip: float
    epsilon: float

    @classmethod
    def from_vec_normalize(cls, env: VecNormalize) -> ObsNormalizer:
        rms = env.obs_rms
        return cls(np.array(rms.mean, dtype=np.float64), np.array(rms.var, dtype=np.float64), float(env.clip_obs),
                   float(env.epsilon))

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        normalized = (obs - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.clip(normalized, -self.clip, self.clip).astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "clip": self.clip, "epsilon": self.epsilon}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObsNormalizer:
        return cls(np.array(data["mean"]), np.array(data["var"]), float(data["clip"]), float(data["epsilon"]))


class SB3PerTaskPolicy:
    """The per-task SB3 policies as one multi-task policy, with MTSAC's acting signature.

    Args:
        models: one SB3 model per task, in the order of the ``T`` axis.
        obs_normalizers: per task, the observation normalisation the model was trained behind (None: raw).
    """

    def __init__(self, models: list[BaseAlgorithm], obs_normalizers: list[ObsNormalizer | None] | None = None) -> None:
        self.models = models
        self.obs_normalizers = obs_normalizers or [None] * len(models)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        """``obs (T, E, obs_dim)`` -> actions ``(T, E, action_dim)`` in ``[-1, 1]``, on ``obs``'s device."""
        actions = []
        for model, normalize, task_obs in zip(self.models, self.obs_normalizers, obs.cpu().numpy(), strict=True):
            if normalize is not None:
                task_obs = normalize(task_obs)
            action, _ = model.predict(task_obs, deterministic=deterministic)
            actions.append(torch.as_tensor(action, dtype=torch.float32))
        return torch.stack(actions).to(obs.device)


class TaskProgress(BaseCallback):
    """The task's training episodes across chunked ``learn`` calls: success (flag set at any step) and return."""

    def __init__(self, num_envs: int) -> None:
        super().__init__()
        self.ever_success = np.zeros(num_envs, dtype=bool)
        self.episode_return = np.zeros(num_envs)
        self.successes: list[float] = []
        self.returns: list[float] = []

    def _on_step(self) -> bool:
        self.episode_return += self.locals["rewards"]
        self.ever_success |= np.array([bool(info.get("success", False)) for info in self.locals["infos"]])
        for e in np.flatnonzero(self.locals["dones"]):
            self.successes.append(float(self.ever_success[e]))
            self.returns.append(float(self.episode_return[e]))
            self.ever_success[e] = False
            self.episode_return[e] = 0.0
        return True

    def pop(self) -> tuple[float, float]:
        """Mean success and return of the episodes finished since the last call (NaN if none)."""
        success = float(np.mean(self.successes)) if self.successes else math.nan
        episode_return = float(np.mean(self.returns)) if self.returns else math.nan
        self.successes.clear()
        self.returns.clear()
        return success, episode_return


def task_seed(seed: int, task_index: int) -> int:
    """The seed of task ``task_index``'s SB3 agent (network initialisation, exploration): independent per task."""
    return int(np.random.SeedSequence(seed, spawn_key=(task_index,)).generate_state(1)[0] >> 1)


def make_task_vec_env(cfg: RunConfig, task_index: int) -> VecEnv:
    """``env.envs_per_task`` copies of the task's single-task env, behind ``VecNormalize`` (observations only) when
    the PPO arm normalises observations. :func:`build_model` seeds them with the run seed: on Meta-World, copy 0
    then runs exactly the simulator and goal-choice streams of the multi-task env's sub-env ``(task, 0)``."""
    fns = [functools.partial(make_single_task_env, cfg.env, task_index, cfg.seed, copy_index=e)
           for e in range(cfg.env.envs_per_task)]
    env: VecEnv = DummyVecEnv(fns)  # type: ignore[arg-type]
    if SB3_AGENTS[cfg.agent.name] == "ppo" and cfg.agent.ppo.normalize_obs:
        env = VecNormalize(env, norm_obs=True, norm_reward=False, clip_obs=10.0, gamma=cfg.agent.ppo.gamma)
    return env


def build_model(cfg: RunConfig, task_index: int, env: VecEnv, episode_steps: int,
                device: torch.device | str = "cpu") -> BaseAlgorithm:
    """Task ``task_index``'s SB3 agent with the config's hyper-parameters.

    SAC (``agent.sac``): hidden sizes and activation of actor and critics, batch size per task, actor / critic /
    temperature learning rates, gamma, tau, initial temperature and entropy target, target-update interval;
    ``train.buffer_capacity_per_task``, ``random_steps_per_task`` (uniform actions, no updates) and
    ``updates_per_step`` (per vector step of the task's copies).

    PPO (``agent.ppo``): one rollout is one episode of every copy (``n_steps`` = the episode length), split into
    ``minibatches`` minibatches for ``epochs`` epochs; learning rate (annealed linearly over the whole budget when
    ``anneal_lr``), gamma, GAE lambda, clip range (also of the value loss when ``clip_value_loss``), entropy and value
    coefficients, gradient-norm clip, target KL, initial log-std, hidden sizes and activation.
    """
    algo = SB3_AGENTS[cfg.agent.name]
    seed = task_seed(cfg.seed, task_index)
    if algo == "sac":
        sac = cfg.agent.sac
        _warn_unused_architecture(sac.actor, sac.critic)
        model: BaseAlgorithm = BaselineSAC(
            "MlpPolicy", env, learning_rate=sac.actor_lr, buffer_size=cfg.train.buffer_capacity_per_task,
            learning_starts=cfg.train.random_steps_per_task, batch_size=sac.batch_size_per_task, tau=sac.tau,
            gamma=sac.gamma, train_freq=1, gradient_steps=cfg.train.updates_per_step,
            ent_coef=f"auto_{sac.init_temperature}", target_update_interval=sac.target_update_every,
            target_entropy="auto" if sac.target_entropy is None else float(sac.target_entropy),
            policy_kwargs={"net_arch": {"pi": list(sac.actor.hidden_sizes), "qf": list(sac.critic.hidden_sizes)},
                           "activation_fn": ACTIVATIONS[sac.actor.activation]},
            seed=seed, device=device, verbose=0,
        )
        model.actor_lr, model.critic_lr, model.alpha_lr = sac.actor_lr, sac.critic_lr, sac.alpha_lr
    else:
        ppo = cfg.agent.ppo
        _warn_unused_architecture(ppo.actor, ppo.critic)
        rollout = episode_steps * env.num_envs

        def annealed(progress_remaining: float, lr: float = ppo.lr) -> float:  # a closure: pickled by value
            return lr * progress_remaining

        model = BaselinePPO(
            "MlpPolicy", env, learning_rate=annealed if ppo.anneal_lr else ppo.lr,
            n_steps=episode_steps, batch_size=max(2, rollout // ppo.minibatches), n_epochs=ppo.epochs,
            gamma=ppo.gamma, gae_lambda=ppo.gae_lambda, clip_range=ppo.clip_coef,
            clip_range_vf=ppo.clip_coef if ppo.clip_value_loss else None,
            normalize_advantage=ppo.normalize_advantages, ent_coef=ppo.ent_coef, vf_coef=ppo.vf_coef,
            max_grad_norm=ppo.max_grad_norm if ppo.max_grad_norm > 0 else math.inf, target_kl=ppo.target_kl,
            policy_kwargs={"net_arch": {"pi": list(ppo.actor.hidden_sizes), "vf": list(ppo.critic.hidden_sizes)},
                           "activation_fn": ACTIVATIONS[ppo.actor.activation], "log_std_init": ppo.init_log_std},
            seed=seed, device=device, verbose=0,
        )
    model.budget_steps = math.ceil(cfg.train.total_steps_per_task / (episode_steps * env.num_envs)) * \
        episode_steps * env.num_envs
    # the environments' streams are the run seed's (those of the multi-task env's sub-envs), not the agent's
    env.seed(cfg.seed)
    model.set_logger(Logger(folder=None, output_formats=[]))  # values are read from it, nothing is written
    return model


def _warn_unused_architecture(*nets: Any) -> None:
    for net in nets:
        if net.encoder != "mlp" or net.conditioning == "film":
            warnings.warn(f"the SB3 baseline uses a plain MLP of hidden_sizes {list(net.hidden_sizes)}; encoder "
                          f"{net.encoder!r} / conditioning {net.conditioning!r} are ignored", stacklevel=3)


def _tag(key: str) -> str:
    """SB3 logger key -> mtrl TensorBoard tag (MTSAC's names where they mean the same)."""
    name = key.split("/", 1)[-1]
    renamed = {"ent_coef": "alpha", "ent_coef_loss": "alpha_loss"}.get(name, name)
    return f"losses/{renamed}" if renamed.endswith("_loss") else f"charts/{renamed}"


class SB3BaselineRun:
    """One run of the baseline arm in ``run_dir`` (made by :func:`mtrl.runs.directory.prepare_new_run_dir`)."""

    def __init__(self, cfg: RunConfig, run_dir: Path) -> None:
        if cfg.agent.name not in SB3_AGENTS:
            raise ValueError(f"not an SB3 baseline agent: {cfg.agent.name!r}; valid: {', '.join(SB3_AGENTS)}")
        self.cfg, self.run_dir = cfg, run_dir
        self.device = resolve_device(cfg.device)
        seed_everything(cfg.seed, cfg.deterministic)
        self.eval_env = make_env(cfg.env, seed=cfg.seed, device=self.device, for_eval=True)
        self.info: EnvInfo = self.eval_env.info
        self.task_names = self.info.task_names
        # the multi-task env's record, with the training copies per task (the evaluation env has its own count)
        write_env_record(run_dir, self.info, envs_per_task=cfg.env.envs_per_task, single_task_envs=True)
        E, L = cfg.env.envs_per_task, self.info.max_episode_steps
        self.episode_unit = E * L  # steps per task of one synchronized episode of every copy
        self.cadence = Cadence.of(cfg.train)
        self.total_steps = whole_episodes(cfg.train.total_steps_per_task, self.episode_unit)
        self.chunk = self.cadence.log_interval(self.episode_unit)  # every chunk ends with a log
        self.envs = [make_task_vec_env(cfg, t) for t in range(self.info.num_tasks)]
        self.models = [build_model(cfg, t, env, L, self.device) for t, env in enumerate(self.envs)]
        self.progress = [TaskProgress(E) for _ in self.models]
        self.step = 0
        self.logger = RunLogger(run_dir)

    def policy(self) -> SB3PerTaskPolicy:
        normalizers = [ObsNormalizer.from_vec_normalize(env) if isinstance(env, VecNormalize) else None
                       for env in self.envs]
        return SB3PerTaskPolicy(self.models, normalizers)

    def run(self) -> EvalResult:
        train = self.cfg.train
        last_eval = last_checkpoint = 0
        result: EvalResult | None = None
        bar = None
        if train.progress:
            from tqdm import tqdm

            bar = tqdm(total=self.total_steps, unit="step/task", dynamic_ncols=True, desc=self.cfg.name)
        try:
            while self.step < self.total_steps:
                steps = min(self.chunk, self.total_steps - self.step)
                start = time.perf_counter()
                updates_before = sum(m._n_updates for m in self.models)
                for model, progress in zip(self.models, self.progress, strict=True):
                    model.learn(steps, callback=progress, reset_num_timesteps=self.step == 0, log_interval=None)
                elapsed = time.perf_counter() - start
                self.step += steps
                rates = {"charts/env_steps_per_s": steps * len(self.models) / elapsed,
                         "charts/updates_per_s": (sum(m._n_updates for m in self.models) - updates_before) / elapsed}
                self._log(rates)
                if bar is not None:
                    bar.update(steps)
                done = self.step >= self.total_steps
                if self.cadence.eval_due(self.step, last_eval, done):
                    result = self.evaluate()
                    last_eval = self.step
                if self.cadence.checkpoint_due(self.step, last_checkpoint, done):
                    self.save_checkpoint()
                    last_checkpoint = self.step
        finally:
            if bar is not None:
                bar.close()
            self.logger.close()
            self.close()
        assert result is not None
        return result

    def _log(self, rates: dict[str, float]) -> None:
        per_task = [p.pop() for p in self.progress]
        values = {"charts/success_rate": torch.tensor([s for s, _ in per_task]),
                  "charts/episodic_return": torch.tensor([r for _, r in per_task])}
        logged = [m.logger.name_to_value for m in self.models]
        shared_keys = set.intersection(*(set(v) for v in logged))
        for key in sorted(k for k in shared_keys if k.startswith("train/") and k != "train/n_updates"):
            values[_tag(key)] = torch.tensor([float(v[key]) for v in logged])
        for model in self.models:
            model.logger.dump(self.step)  # no outputs: this only clears its values for the next chunk
        self.logger.log(self.step, {**rates, **flatten_metrics(values, self.task_names)})

    def evaluate(self) -> EvalResult:
        """mtrl's protocol on the evaluation env; logs ``eval/*`` and writes ``eval.json`` and ``evals.jsonl``."""
        policy = self.policy()
        result = evaluate(lambda o: policy.act(o, deterministic=True), self.eval_env, self.cfg.train.eval_episodes)
        result.step = self.step
        record_training_evaluation(result, self.run_dir, self.logger)
        return result

    def save_checkpoint(self) -> Path:
        normalizers = self.policy().obs_normalizers
        return save_checkpoint_dir(self.run_dir / CHECKPOINT_DIR, self.step, self.cfg, self.task_names, self.models,
                                   normalizers, self.cfg.train.keep_checkpoints)

    def close(self) -> None:
        self.eval_env.close()
        for env in self.envs:
            env.close()


# ---------------------------------------------------------------------------------------------- checkpoints


def list_sb3_checkpoints(directory: Path) -> list[Path]:
    """The complete checkpoint directories ``sb3_<step>`` in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    prefix = SB3_CHECKPOINT_PREFIX
    found = [p for p in directory.iterdir()
             if p.is_dir() and p.name.startswith(prefix) and p.name[len(prefix):].isdigit()
             and (p / META_FILE).is_file()]
    return sorted(found, key=lambda p: int(p.name[len(prefix):]))


def save_checkpoint_dir(directory: Path, step: int, cfg: RunConfig, task_names: list[str],
                        models: list[BaseAlgorithm], normalizers: list[ObsNormalizer | None], keep: int) -> Path:
    """Write ``directory/sb3_<step>/`` (``<task>.zip`` per task, PPO's ``<task>.obs_norm.json``, ``meta.json``):
    built in a temporary directory, then renamed into place; all but the ``keep`` newest are deleted."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{SB3_CHECKPOINT_PREFIX}{step:010d}"
    staging = directory / f".{final.name}.{secrets.token_hex(4)}.tmp"
    staging.mkdir()  # mode 0o777 through the umask (tempfile.mkdtemp would force 0700)
    try:
        files = {}
        for name, model, normalizer in zip(task_names, models, normalizers, strict=True):
            atomic_write(staging / f"{name}.zip", model.save)
            files[name] = {"model": f"{name}.zip"}
            if normalizer is not None:
                atomic_write_text(json.dumps(normalizer.to_json()) + "\n", staging / f"{name}.obs_norm.json")
                files[name]["obs_norm"] = f"{name}.obs_norm.json"
        meta = {"format_version": FORMAT_VERSION, "step": step, "agent": cfg.agent.name,
                "algorithm": SB3_AGENTS[cfg.agent.name], "task_names": task_names, "files": files,
                "config": to_yaml(cfg)}
        atomic_write_text(json.dumps(meta, indent=2) + "\n", staging / META_FILE)
        if final.exists():  # a checkpoint of the same step (a restarted run): replace it
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for old in list_sb3_checkpoints(directory)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint_dir(path: Path, device: torch.device | str = "cpu") -> tuple[dict[str, Any], SB3PerTaskPolicy]:
    """``(meta, policy)`` of a checkpoint directory written by :func:`save_checkpoint_dir`."""
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise CheckpointError(f"{path} is not an SB3 baseline checkpoint (no {META_FILE})")
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: unknown SB3 checkpoint format {meta.get('format_version')!r}")
    algo_cls = {"sac": SAC, "ppo": PPO}[meta["algorithm"]]
    models, normalizers = [], []
    for name in meta["task_names"]:
        files = meta["files"][name]
        try:
            models.append(algo_cls.load(path / files["model"], device=device))
        except Exception as err:
            raise CheckpointError(f"corrupt SB3 model {path / files['model']}: {type(err).__name__}: {err}") from err
        norm = files.get("obs_norm")
        normalizers.append(ObsNormalizer.from_json(json.loads((path / norm).read_text())) if norm else None)
    return meta, SB3PerTaskPolicy(models, normalizers)


# ---------------------------------------------------------------------------------------------- entry points


def train_sb3_baseline(cfg: RunConfig, run_dir: Path, resume: bool = False) -> EvalResult:
    """Train and evaluate the baseline arm in ``run_dir``; returns the final evaluation."""
    if resume:
        raise CheckpointError(f"SB3 baseline runs ({cfg.agent.name}) cannot be resumed (replay buffers and "
                              f"environment states are not checkpointed); start a new run instead of {run_dir}")
    return SB3BaselineRun(cfg, run_dir).run()


def evaluate_sb3_target(target: Path, episodes: int = 50, output: Path | None = None, device: str = "auto",
                        verbose: bool = True) -> EvalResult:
    """``mtrl evaluate`` of a baseline run directory (its newest checkpoint) or checkpoint directory, with the run
    directory locked: the newest checkpoint writes the run's ``eval.json``, any other its own
    (:func:`~mtrl.runs.directory.own_eval_path`); a checkpoint of another run is refused."""
    checkpoint, run_dir = find_sb3_checkpoint(target)
    newest = [p.name for p in list_sb3_checkpoints(run_dir / CHECKPOINT_DIR)][-1:] == [checkpoint.name]
    with run_dir_lock(run_dir, "mtrl evaluate"):
        recorded = from_yaml_text(json.loads((checkpoint / META_FILE).read_text())["config"])
        check_same_run(read_run_config(run_dir), recorded, checkpoint)
        output = output or (run_dir / EVAL_FILE if newest else own_eval_path(checkpoint))
        return evaluate_sb3_run(checkpoint, episodes, output, device, verbose)


def find_sb3_checkpoint(target: Path) -> tuple[Path, Path]:
    """``(checkpoint_dir, run_dir)`` for a run directory (its newest checkpoint) or a checkpoint directory."""
    if (target / META_FILE).is_file():
        return target, target.parent.parent
    checkpoints = list_sb3_checkpoints(target / CHECKPOINT_DIR)
    if not checkpoints:
        raise RunDirError(f"no SB3 baseline checkpoint in {target / CHECKPOINT_DIR}")
    return checkpoints[-1], target


def evaluate_sb3_run(target: Path, episodes: int = 50, output: Path | None = None, device: str = "auto",
                     verbose: bool = True) -> EvalResult:
    """``mtrl evaluate`` for a baseline run or checkpoint directory: the protocol, written to ``eval.json``."""
    checkpoint, run_dir = find_sb3_checkpoint(target)
    torch_device = resolve_device(device)
    meta, policy = load_checkpoint_dir(checkpoint, torch_device)
    cfg = from_yaml_text(meta["config"])
    seed_everything(cfg.seed, cfg.deterministic)
    env = make_env(cfg.env, seed=cfg.seed, device=torch_device, for_eval=True)
    try:
        result = evaluate(lambda o: policy.act(o, deterministic=True), env, episodes)
    finally:
        env.close()
    return record_evaluation(result, int(meta["step"]), checkpoint, output or run_dir / EVAL_FILE, episodes, verbose)
