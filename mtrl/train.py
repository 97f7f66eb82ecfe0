"""The training loop: collect -> store -> update -> log -> evaluate -> checkpoint.

Meta-World episodes are truncation-only and fixed-length (500 steps), so every sub-env reaches an episode
boundary at the same vector step. Logging, evaluation and checkpoints happen at those boundaries, before the
envs are reset: a checkpoint then holds everything needed to replay the rest of the run exactly (networks,
optimizers, temperatures, surgery state, replay buffer, every RNG, the envs' RNG states).

The agent and its loop come from the registry (:mod:`mtrl.agents.registry`), the run directory's files and their
writers from :mod:`mtrl.runs`. Agents with a runner of their own (the SB3 arm) get the run directory from
:func:`train` and do the rest themselves.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from envs import make_env
from envs.base import MultiTaskVectorEnv
from mtrl.agents.base import Agent
from mtrl.agents.registry import agent_spec, build_agent, build_loop
from mtrl.config import RunConfig, check_resume_config, from_yaml_text, to_yaml
from mtrl.errors import CheckpointError, ConfigError, MtrlError, NonFiniteLossError, RunDirError
from mtrl.evaluate import EvalResult, evaluate, format_table
from mtrl.loops import Loop
from mtrl.loops.off_policy import DIAGNOSTIC_KEYS
from mtrl.runs.cadence import Cadence, whole_episodes
from mtrl.runs.checkpoint import (
    check_same_run,
    list_checkpoints,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
    stale_temp_files,
)
from mtrl.runs.device import resolve_device, seed_everything
from mtrl.runs.directory import new_run_dir, prepare_new_run_dir, read_run_config, refuse_existing_run
from mtrl.runs.evaluations import record_training_evaluation, recorded_evaluation
from mtrl.runs.layout import CHECKPOINT_DIR, EVALS_FILE, SKIPPED_SUFFIX
from mtrl.runs.lock import run_dir_lock
from mtrl.runs.logger import MetricAccumulator, RunLogger, WandbWriter, cut_jsonl, flatten_metrics
from mtrl.runs.record import RunRecord, write_env_record

CHECKPOINT_KEYS = ("step", "config", "agent", "loop", "rng", "env", "progress", "train_metrics", "episode_metrics",
                   "recent_success")


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
        self.agent: Agent = build_agent(cfg, info.obs_dim, info.action_dim, info.num_tasks, self.device)
        self.loop: Loop = build_loop(cfg, info, self.agent, self.device)
        self.progress = Progress()
        self.train_metrics = MetricAccumulator()
        self.episode_metrics = MetricAccumulator()
        self.recent_success: deque[float] = deque(maxlen=10)
        self.finite = torch.ones((), dtype=torch.bool, device=self.device)
        resume_step = None
        if resume:
            resume_step = self._restore_latest()
            # rows written after the checkpoint are replayed by the resumed run: drop them (no duplicates)
            cut_jsonl(run_dir / EVALS_FILE, resume_step)
        if not resume or resume_step == 0:
            write_env_record(run_dir, info)
        resolved = OmegaConf.to_container(OmegaConf.structured(cfg))
        wandb_cfg = cfg.logger.wandb
        wandb = None if wandb_cfg.project is None else WandbWriter(
            run_dir, wandb_cfg.project, wandb_cfg.mode, wandb_cfg.entity, resolved, run_dir.name)
        self.logger = RunLogger(run_dir, resume_step=resume_step, wandb=wandb)
        precision = agent_spec(cfg.agent.name).precision(cfg)
        self.record = RunRecord(run_dir, precision, self.device, info.num_tasks, resume=resume)
        self._clock = (time.perf_counter(), self.progress.wall_clock_s)  # (this sitting's start, earlier sittings)

    def wall_clock(self) -> float:
        """Training wall-clock of the whole run so far (seconds, all sittings)."""
        return self._clock[1] + time.perf_counter() - self._clock[0]

    # ------------------------------------------------------------------ bookkeeping
    @property
    def step(self) -> int:
        """Environment steps per task so far."""
        return self.progress.iteration * self.E

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
        """Restore the newest intact checkpoint of the run and return its step (0: none yet, start over).

        Temporary files of interrupted writes are removed; a corrupt, truncated, incomplete or foreign checkpoint
        is skipped with one line on stderr saying why, and the next older one is tried.
        """
        directory = self.run_dir / CHECKPOINT_DIR
        for stale in stale_temp_files(self.run_dir) + stale_temp_files(directory):
            stale.unlink(missing_ok=True)
            print(f"removed {stale} (left by an interrupted write)", file=sys.stderr)
        checkpoints = list_checkpoints(directory)
        if not checkpoints:  # killed before its first checkpoint: the run restarts from its beginning
            print(f"no checkpoint in {directory} yet: the run starts over from step 0", file=sys.stderr)
            return 0
        skipped: list[tuple[Path, MtrlError]] = []
        for path in reversed(checkpoints):
            try:
                state = load_checkpoint(path, map_location=self.device)
                missing = [key for key in CHECKPOINT_KEYS if key not in state]
                if missing:
                    raise CheckpointError(f"{path} is incomplete (no {', '.join(missing)})")
                check_same_run(self.cfg, from_yaml_text(state["config"]), path)
            except (CheckpointError, ConfigError) as err:  # ConfigError: its recorded config does not parse
                skipped.append((path, err))
                continue
            self._check_config_changes(state, path)  # a refused edit is an error, not a reason to skip
            self._load_state(path, state)
            # set the skipped (newer) files aside, kept: `mtrl evaluate` and later resumes take the run's own
            for bad, err in skipped:
                bad.rename(bad.with_name(bad.name + SKIPPED_SUFFIX))
                print(f"skipped checkpoint {bad.name}: {err} (kept as {bad.name}{SKIPPED_SUFFIX})", file=sys.stderr)
            return int(state["step"])
        for bad, err in skipped:
            print(f"skipped checkpoint {bad.name}: {err}", file=sys.stderr)
        raise CheckpointError(f"no intact checkpoint to resume from in {directory} (each one skipped above)")

    def _load_state(self, path: Path, state: dict[str, Any]) -> None:
        try:
            self.agent.load_state_dict(state["agent"])
        except (RuntimeError, KeyError, ValueError) as err:
            raise CheckpointError(
                f"checkpoint {path} does not fit the configured architecture: {str(err).splitlines()[0][:300]}"
            ) from err
        try:
            self.loop.load_state_dict(state["loop"])
            self.env.set_state(state["env"])
            self.progress = Progress(**state["progress"])
            # a checkpoint at step s is the last one; format-1 checkpoints stored the one before (schedule shift)
            self.progress.last_checkpoint = int(state["step"])
            self.train_metrics.load_state_dict(state["train_metrics"], self.device)
            self.episode_metrics.load_state_dict(state["episode_metrics"], self.device)
            self.recent_success.extend(state["recent_success"])
            set_rng_state(state["rng"])
        except (RuntimeError, KeyError, ValueError, TypeError) as err:
            raise CheckpointError(f"checkpoint {path} does not fit this run: {type(err).__name__}: "
                                  f"{str(err).splitlines()[0][:300]}") from err

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
        cadence = Cadence.of(train)
        episode_len = self.info.max_episode_steps
        total_iterations = whole_episodes(train.total_steps_per_task, self.E * episode_len) // self.E
        bar = None
        if train.progress:
            from tqdm import tqdm

            bar = tqdm(total=total_iterations * self.E, initial=self.step, unit="step/task", dynamic_ncols=True,
                       desc=cfg.name)
        t_last, step_last, updates_last = time.perf_counter(), self.step, self.agent.num_updates
        result: EvalResult | None = None
        status = "failed"
        # resuming a finished run runs nothing and writes nothing, run.json included
        finished = self.progress.iteration >= total_iterations
        if not finished:
            self.record.update("running", self.step, self.wall_clock())
        try:
            while self.progress.iteration < total_iterations:
                self._run_episode(episode_len)
                done = self.progress.iteration >= total_iterations
                if bar is not None:
                    bar.update(self.step - bar.n)
                if cadence.log_due(self.step, self.progress.last_log, done):
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
                if cadence.eval_due(self.step, self.progress.last_eval, done):
                    result = self._evaluate()
                if cadence.checkpoint_due(self.step, self.progress.last_checkpoint, done):
                    self._checkpoint()
            if result is None:  # resumed a run that had already finished: report it, write nothing
                result = recorded_evaluation(self.run_dir, self.step) or self._evaluate(record=False)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if not finished:
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

    def _evaluate(self, record: bool = True) -> EvalResult:
        result = evaluate(lambda o: self.agent.act(o, deterministic=True), self.eval_env,
                          self.cfg.train.eval_episodes)
        result.step = self.step
        result.wall_clock_s = round(self.wall_clock(), 3)
        if not record:
            return result
        record_training_evaluation(result, self.run_dir, self.logger)
        self.progress.last_eval = self.step
        return result

    def _checkpoint(self) -> Path:
        self._check_finite()  # never let a diverged model replace good checkpoints
        previous, self.progress.last_checkpoint = self.progress.last_checkpoint, self.step
        try:  # the stored progress says this checkpoint is the last one, as it is once written
            return save_checkpoint(self._checkpoint_state(), self.run_dir / CHECKPOINT_DIR, self.step,
                                   self.cfg.train.keep_checkpoints)
        except BaseException:
            self.progress.last_checkpoint = previous
            raise

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
    if resume_dir is not None and not resume_dir.is_dir():
        raise RunDirError(f"{resume_dir} is not a run directory")
    run_dir = resume_dir if resume_dir is not None else new_run_dir(cfg)
    if resume_dir is None:
        refuse_existing_run(run_dir)  # before touching anything (checked again under the lock)
        run_dir.mkdir(parents=True, exist_ok=True)  # the lock lives inside it
    with run_dir_lock(run_dir, "mtrl train --resume" if resume_dir is not None else "mtrl train"):
        if resume_dir is not None:
            cfg = read_run_config(resume_dir)
        else:
            prepare_new_run_dir(cfg, run_dir)
        spec = agent_spec(cfg.agent.name)
        if spec.train is not None:  # an arm with a runner of its own (the SB3 baseline: one agent per task)
            result = spec.train(cfg, run_dir, resume_dir is not None)
        else:
            result = Trainer(cfg, run_dir, resume=resume_dir is not None).run()
    print(format_table(result))
    print(f"run directory: {run_dir}")
    return run_dir, result
