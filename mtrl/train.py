"""The training loop: collect -> store -> update -> log -> evaluate -> checkpoint.

Meta-World episodes are truncation-only and fixed-length (500 steps), so every sub-env reaches an episode
boundary at the same vector step. Logging, evaluation and checkpoints happen at those boundaries, before the
envs are reset: a checkpoint then holds everything needed to replay the rest of the run exactly (networks,
optimizers, temperatures, surgery state, replay buffer, every RNG, the envs' RNG states).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from envs import make_env
from envs.base import MultiTaskVectorEnv
from mtrl.agents.sac import MTSAC
from mtrl.checkpoint import (
    atomic_write_text,
    list_checkpoints,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from mtrl.config import RunConfig, check_resume_config, from_yaml_text, to_yaml, validate
from mtrl.errors import CheckpointError, NonFiniteLossError, RunDirError
from mtrl.evaluate import EvalResult, evaluate, format_table
from mtrl.logger import MetricAccumulator, RunLogger, flatten_metrics
from mtrl.loops import Loop
from mtrl.loops.off_policy import DIAGNOSTIC_KEYS, OffPolicyLoop
from mtrl.run_record import RunRecord
from mtrl.surgery import make_surgery

CONFIG_FILE = "config.yaml"
ENV_FILE = "env.json"
EVAL_FILE = "eval.json"
CHECKPOINT_DIR = "checkpoints"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RunDirError(f"device {name!r} requested but CUDA is not available")
    return device


def seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)


def build_agent(cfg: RunConfig, obs_dim: int, action_dim: int, num_tasks: int, device: torch.device) -> Any:
    """The agent named by ``cfg.agent.name`` with its surgery methods, as the config says."""
    def method(side: str):  # noqa: ANN202
        name, options = cfg.surgery.method(side)
        return make_surgery(name, num_tasks, **options)

    if cfg.agent.name == "mtppo":
        from mtrl.agents.ppo import MTPPO

        return MTPPO(obs_dim, action_dim, num_tasks, cfg.agent.ppo, actor_surgery=method("actor"),
                     critic_surgery=method("critic"), device=device)
    return MTSAC(
        obs_dim, action_dim, num_tasks, cfg.agent.sac,
        actor_surgery=method("actor"), critic_surgery=method("critic"), device=device,
    )


def build_loop(cfg: RunConfig, info: Any, agent: Any, device: torch.device) -> Loop:
    """The training loop of the configured agent (off-policy for SAC, on-policy for PPO)."""
    if cfg.agent.name == "mtppo":
        from mtrl.loops.on_policy import OnPolicyLoop

        return OnPolicyLoop(cfg, info, agent, device)
    return OffPolicyLoop(cfg, info, agent, device)


def default_run_dir(cfg: RunConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{cfg.name}-seed{cfg.seed}-{stamp}"


def prepare_new_run_dir(cfg: RunConfig) -> Path:
    """Create the run directory; refuse one that already holds anything (never overwrite a run)."""
    run_dir = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(cfg)
    if run_dir.exists() and any(run_dir.iterdir()):
        hint = f" (to continue it: mtrl train --resume {run_dir})" if (run_dir / CONFIG_FILE).exists() else ""
        raise RunDirError(f"run directory {run_dir} is not empty; choose another run_dir{hint}")
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg.run_dir = str(run_dir)
    atomic_write_text(to_yaml(cfg), run_dir / CONFIG_FILE)
    return run_dir


def read_run_config(run_dir: Path) -> RunConfig:
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise RunDirError(f"{run_dir} is not a run directory (no {CONFIG_FILE})")
    cfg = from_yaml_text(path.read_text(), source=str(path))
    validate(cfg)  # an edited config.yaml passes the same checks as a new run's config
    return cfg


@dataclass
class Progress:
    """Loop counters saved in checkpoints."""

    iteration: int = 0  # vector-env steps taken
    episodes: int = 0  # completed episodes per sub-env
    last_log: int = 0  # step (per task) of the last log
    last_eval: int = 0
    last_checkpoint: int = 0
    wall_clock_s: float = 0.0  # training wall-clock of all sittings up to the checkpoint (seconds)


class Trainer:
    """Runs one training run in ``run_dir``.

    Args:
        cfg: the resolved run config.
        run_dir: an existing run directory (new: made by :func:`prepare_new_run_dir`).
        resume: continue from the newest checkpoint in ``run_dir``.
    """

    def __init__(self, cfg: RunConfig, run_dir: Path, resume: bool = False) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.device = resolve_device(cfg.device)
        seed_everything(cfg.seed, cfg.deterministic)
        self.env: MultiTaskVectorEnv = make_env(cfg.env, seed=cfg.seed, device=self.device)
        self._eval_env: MultiTaskVectorEnv | None = None
        info = self.env.info
        self.info = info
        self.task_names = info.task_names
        self.E = info.envs_per_task
        self.agent = build_agent(cfg, info.obs_dim, info.action_dim, info.num_tasks, self.device)
        self.loop = build_loop(cfg, info, self.agent, self.device)
        self.progress = Progress()
        self.train_metrics = MetricAccumulator()
        self.episode_metrics = MetricAccumulator()
        self.recent_success: deque[float] = deque(maxlen=10)
        self.finite = torch.ones((), dtype=torch.bool, device=self.device)
        resume_step = None
        if resume:
            resume_step = self._restore_latest()
        else:
            atomic_write_text(json.dumps(self._env_record(), indent=2) + "\n", run_dir / ENV_FILE)
        self.logger = RunLogger(run_dir, resume_step=resume_step)
        self.record = RunRecord(run_dir, OmegaConf.to_container(OmegaConf.structured(cfg)), self.device,
                                info.num_tasks, resume=resume)
        self._clock = (time.perf_counter(), self.progress.wall_clock_s)  # (this sitting's start, earlier sittings)

    def wall_clock(self) -> float:
        """Training wall-clock of the whole run so far (seconds, all sittings)."""
        return self._clock[1] + time.perf_counter() - self._clock[0]

    # ------------------------------------------------------------------ bookkeeping
    @property
    def step(self) -> int:
        """Environment steps per task so far."""
        return self.progress.iteration * self.E

    def _env_record(self) -> dict[str, Any]:
        i = self.info
        return {
            "benchmark": i.benchmark, "task_names": i.task_names, "envs_per_task": i.envs_per_task,
            "obs_dim": i.obs_dim, "action_dim": i.action_dim, "max_episode_steps": i.max_episode_steps,
            "num_goals": i.num_goals, "backend": i.backend, **i.extra,
        }

    @property
    def eval_env(self) -> MultiTaskVectorEnv:
        if self._eval_env is None:
            self._eval_env = make_env(self.cfg.env, seed=self.cfg.seed, device=self.device, for_eval=True)
        return self._eval_env

    def _checkpoint_state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "config": to_yaml(self.cfg),
            "agent": self.agent.state_dict(),
            "loop": self.loop.state_dict(),
            "rng": rng_state(),
            "env": self.env.get_state(),
            "progress": {**vars(self.progress), "wall_clock_s": self.wall_clock()},
            "train_metrics": self.train_metrics.state_dict(),
            "episode_metrics": self.episode_metrics.state_dict(),
            "recent_success": list(self.recent_success),
        }

    def _restore_latest(self) -> int:
        checkpoints = list_checkpoints(self.run_dir / CHECKPOINT_DIR)
        if not checkpoints:
            raise CheckpointError(f"no checkpoint to resume from in {self.run_dir / CHECKPOINT_DIR}")
        state = load_checkpoint(checkpoints[-1], map_location=self.device)
        self._check_config_changes(state, checkpoints[-1])
        try:
            self.agent.load_state_dict(state["agent"])
        except (RuntimeError, KeyError, ValueError) as err:
            raise CheckpointError(
                f"checkpoint {checkpoints[-1]} does not fit the configured architecture: "
                f"{str(err).splitlines()[0][:300]}"
            ) from err
        self.loop.load_state_dict(state["loop"])
        self.env.set_state(state["env"])
        self.progress = Progress(**state["progress"])
        self.train_metrics.load_state_dict(state["train_metrics"], self.device)
        self.episode_metrics.load_state_dict(state["episode_metrics"], self.device)
        self.recent_success.extend(state["recent_success"])
        set_rng_state(state["rng"])
        return int(state["step"])

    def _check_config_changes(self, state: dict[str, Any], checkpoint: Path) -> None:
        """Refuse edits of config.yaml that the restored state cannot honour (before anything is restored or
        written); report the allowed ones. Checkpoints without a recorded config are trusted as before."""
        if "config" not in state:
            return
        recorded = from_yaml_text(state["config"])
        for change in check_resume_config(recorded, self.cfg, f"checkpoint {checkpoint.name}"):
            print(f"resume: config.yaml changed {change}")

    # ------------------------------------------------------------------ the loop
    def run(self) -> EvalResult:
        cfg, train = self.cfg, self.cfg.train
        episode_len = self.info.max_episode_steps
        total_iterations = math.ceil(train.total_steps_per_task / self.E / episode_len) * episode_len
        bar = None
        if train.progress:
            from tqdm import tqdm

            bar = tqdm(total=total_iterations * self.E, initial=self.step, unit="step/task", dynamic_ncols=True,
                       desc=cfg.name)
        t_last, step_last, updates_last = time.perf_counter(), self.step, self.agent.num_updates
        result: EvalResult | None = None
        status = "failed"
        self.record.update("running", self.step, self.wall_clock())
        try:
            while self.progress.iteration < total_iterations:
                self._run_episode(episode_len)
                done = self.progress.iteration >= total_iterations
                if bar is not None:
                    bar.update(self.step - bar.n)
                if self.step - self.progress.last_log >= train.log_every or done:
                    now = time.perf_counter()
                    rates = {
                        "charts/env_steps_per_s": (self.step - step_last) * self.info.num_tasks / (now - t_last),
                        "charts/updates_per_s": (self.agent.num_updates - updates_last) / (now - t_last),
                    }
                    t_last, step_last, updates_last = now, self.step, self.agent.num_updates
                    self._log(rates)
                    self.record.update("running", self.step, self.wall_clock())
                    if bar is not None:
                        recent = np.mean(self.recent_success) if self.recent_success else 0.0
                        bar.set_postfix(success=f"{recent:.2f}", sps=f"{rates['charts/env_steps_per_s']:.0f}")
                if done or (train.eval_every and self.step - self.progress.last_eval >= train.eval_every):
                    result = self._evaluate()
                if done or self.step - self.progress.last_checkpoint >= train.checkpoint_every:
                    self._checkpoint()
            if result is None:  # resumed a run that had already finished
                result = self._evaluate()
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.record.update(status, self.step, self.wall_clock())
            if bar is not None:
                bar.close()
            self.logger.close()
            self.close()
        return result

    def _run_episode(self, episode_len: int) -> None:
        """One synchronized episode of every sub-env (collect + updates), ending before the reset."""
        episode_return, ever_success, truncated = self.loop.run_episode(
            self.env, self.progress.iteration, self.train_metrics, self.finite
        )
        self.progress.iteration += episode_len
        if not bool(truncated.all()):  # one host sync per episode
            raise RuntimeError(
                f"the environments did not all end their episodes after {episode_len} steps; mtrl trains on "
                "fixed-length, truncation-only episodes (the Meta-World protocol)"
            )
        self.progress.episodes += 1
        success_per_task = ever_success.float().mean(dim=1)
        self.episode_metrics.add({"charts/success_rate": success_per_task,
                                  "charts/episodic_return": episode_return.mean(dim=1)})
        self.recent_success.append(float(success_per_task.mean()))

    def _check_finite(self) -> None:
        if not bool(self.finite):
            raise NonFiniteLossError(
                f"non-finite loss in the updates before step {self.step}; lower the learning rates or "
                f"check the rewards (the checkpoints written so far are intact)"
            )

    def _log(self, rates: dict[str, float]) -> None:
        self._check_finite()
        scalars: dict[str, float] = dict(rates)
        if self.episode_metrics:
            scalars.update(flatten_metrics(self.episode_metrics.means(), self.task_names))
        if self.train_metrics:
            means = self.train_metrics.means()
            scalars.update(flatten_metrics({_metric_name(k): v for k, v in means.items()}, self.task_names))
        self.logger.log(self.step, scalars)
        self.progress.last_log = self.step

    def _evaluate(self) -> EvalResult:
        result = evaluate(lambda o: self.agent.act(o, deterministic=True), self.eval_env,
                          self.cfg.train.eval_episodes)
        result.step = self.step
        result.wall_clock_s = round(self.wall_clock(), 1)
        scalars = {"eval/mean_success": result.mean_success, "eval/mean_return": result.mean_return}
        scalars.update({f"eval/success/{k}": v for k, v in result.per_task.items()})
        scalars.update({f"eval/worst_k/{k}": v for k, v in result.worst_k.items()})
        self.logger.log(self.step, scalars)
        atomic_write_text(json.dumps(result.to_json(), indent=2) + "\n", self.run_dir / EVAL_FILE)
        with (self.run_dir / "evals.jsonl").open("a") as f:
            f.write(json.dumps(result.to_json()) + "\n")
        self.progress.last_eval = self.step
        return result

    def _checkpoint(self) -> Path:
        self._check_finite()  # never let a diverged model replace good checkpoints
        path = save_checkpoint(self._checkpoint_state(), self.run_dir / CHECKPOINT_DIR, self.step,
                               self.cfg.train.keep_checkpoints)
        self.progress.last_checkpoint = self.step
        return path

    def close(self) -> None:
        self.env.close()
        if self._eval_env is not None:
            self._eval_env.close()


def _metric_name(key: str) -> str:
    """Agent metric key -> TensorBoard tag (CleanRL-style groups)."""
    if key.endswith(DIAGNOSTIC_KEYS) or "task_weights" in key:
        return f"surgery/{key}"
    if key.endswith(("_loss",)):
        return f"losses/{key}"
    return f"charts/{key}"


def train(cfg: RunConfig, resume_dir: Path | None = None) -> tuple[Path, EvalResult]:
    """Train from a config (new run) or continue the run in ``resume_dir``. Returns the run dir and the final
    evaluation."""
    if resume_dir is not None:
        cfg = read_run_config(resume_dir)
        run_dir = resume_dir
    else:
        run_dir = prepare_new_run_dir(cfg)
    if cfg.agent.name.startswith("sb3_"):  # the single-task baseline arm (one SB3 agent per task)
        from mtrl.agents.sb3_baseline import train_sb3_baseline

        result = train_sb3_baseline(cfg, run_dir, resume=resume_dir is not None)
    else:
        result = Trainer(cfg, run_dir, resume=resume_dir is not None).run()
    print(format_table(result))
    print(f"run directory: {run_dir}")
    return run_dir, result
