"""``mtrl bench train``: end-to-end env steps/s of a short training run, and where the time goes.

The run is the real training loop (:func:`~mtrl.agents.registry.build_agent`, :func:`~mtrl.agents.registry.build_loop`,
``loop.run_episode``) on the env of a config, with no logging, evaluation or checkpoints. Wall-clock timers wrap
the env (``step`` and ``reset``), the agent's action selection (``act``), its gradient updates (``update``) and the
replay buffer (``add``, ``sample``); ``other`` is the rest (metric accumulation, loop bookkeeping). On CUDA the
timers synchronise the device, which removes any overlap: the breakdown then shows the serial cost of each part.

By default updates start at the first step (``train.random_steps_per_task=0``: the steady state of a run, one
update per vector step at the config's ``updates_per_step``) and Meta-World episodes are shortened to
``episode_steps`` (the per-step cost does not depend on the episode length). The env-only rate of the same env
(uniform random actions, no learner) is measured before and after the training episodes; the ratio of the two
is what the issue's "0.7x the env-only rate" target refers to.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtrl.bench.harness import json_line, synchronised_clock

PARTS = ("env", "act", "update", "replay", "other")


@dataclass
class TrainRow:
    """One measured config.

    Attributes:
        config: the config file.
        precision: the agent's ``agent.sac.precision``.
        benchmark, num_tasks, envs_per_task, vector_strategy, device: what ran.
        vector_steps: timed vector-env steps (each steps ``num_tasks x envs_per_task`` envs).
        env_steps_per_s: end-to-end training rate (env steps, all sub-envs).
        updates_per_s: gradient updates per second.
        env_only_steps_per_s: the same env stepped with random actions and no learner (mean of the two blocks).
        x_env_only: ``env_steps_per_s / env_only_steps_per_s``.
        ms_per_step: per part (``env``, ``act``, ``update``, ``replay``, ``other``), milliseconds per vector step.
        share: the same as fractions of the total.
        x_fp32: the time per env step over the fp32 row's of the same config (< 1 is faster); ``None`` without
            an fp32 row.
    """

    config: str
    precision: str
    benchmark: str
    num_tasks: int
    envs_per_task: int
    vector_strategy: str
    device: str
    vector_steps: int
    env_steps_per_s: float
    updates_per_s: float
    env_only_steps_per_s: float
    x_env_only: float
    ms_per_step: dict[str, float]
    share: dict[str, float]
    x_fp32: float | None = None


class _Timers:
    """Accumulated wall-clock seconds per part; ``wrap`` returns a timed version of a bound method (on the
    harness's clock, which synchronises the accelerator)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = synchronised_clock()
            out = fn(*args, **kwargs)
            self.seconds[part] += synchronised_clock() - start
            return out

        return timed


def _env_only_rate(env: Any, steps: int, device: torch.device) -> float:
    """Env steps/s of ``env`` with uniform random actions (reset first, masked resets at episode ends)."""
    info = env.info
    T, E = info.num_tasks, info.envs_per_task
    env.reset()
    start = synchronised_clock()
    for _ in range(steps):
        result = env.step(torch.rand(T, E, info.action_dim, device=device) * 2 - 1)
        done = result.done
        if bool(done.any()):
            env.reset(mask=done)
    return steps * T * E / (synchronised_clock() - start)


def measure(config: str, overrides: Sequence[str] = (), episodes: int = 1, warmup_episodes: int = 1,
            episode_steps: int = 100, env_only_steps: int = 200, profile: str | None = None) -> TrainRow:
    """Run ``warmup_episodes`` then ``episodes`` timed training episodes of ``config`` and return the row.

    Args:
        config: a training config (YAML).
        overrides: ``key=value`` overrides, applied after this benchmark's defaults
            (``train.random_steps_per_task=0``, ``train.progress=false``, ``env.max_episode_steps=episode_steps``
            for Meta-World).
        episodes: timed episodes.
        warmup_episodes: untimed episodes first (allocations, compilation).
        episode_steps: Meta-World episode length for the benchmark.
        env_only_steps: vector steps of each env-only block.
        profile: write a cProfile ``pstats`` file of the timed episodes there (and print its top entries).
    """
    from mtrl.agents.registry import build_agent, build_loop
    from mtrl.config import load_config
    from mtrl.runs.device import resolve_device, seed_everything
    from mtrl.runs.logger import MetricAccumulator

    base = ["train.random_steps_per_task=0", "train.progress=false"]
    probe = load_config(config, list(overrides))
    if probe.env.benchmark != "synthetic":
        base.append(f"env.max_episode_steps={episode_steps}")
    cfg = load_config(config, [*base, *overrides])
    if cfg.agent.name != "mtsac":
        raise ValueError(f"bench train measures the off-policy loop (agent.name=mtsac), got {cfg.agent.name!r}")
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed, cfg.deterministic)
    from envs import make_env

    env = make_env(cfg.env, seed=cfg.seed, device=device)
    try:
        info = env.info
        agent = build_agent(cfg, info.obs_dim, info.action_dim, info.num_tasks, device)
        loop = build_loop(cfg, info, agent, device)
        env_only = [_env_only_rate(env, env_only_steps, device)]
        metrics = MetricAccumulator()
        finite = torch.ones((), dtype=torch.bool, device=device)
        iteration = 0
        for _ in range(warmup_episodes):
            loop.run_episode(env, iteration, metrics, finite)
            iteration += info.max_episode_steps
        timers = _Timers()
        env.step = timers.wrap("env", env.step)  # type: ignore[method-assign]
        env.reset = timers.wrap("env", env.reset)  # type: ignore[method-assign]
        agent.act = timers.wrap("act", agent.act)
        agent.update = timers.wrap("update", agent.update)
        loop.buffer.add = timers.wrap("replay", loop.buffer.add)  # type: ignore[method-assign]
        loop.buffer.sample = timers.wrap("replay", loop.buffer.sample)  # type: ignore[method-assign]
        updates_before = agent.num_updates
        profiler = cProfile.Profile() if profile else None
        start = synchronised_clock()  # the garbage collector stays on: an end-to-end rate includes it
        if profiler is not None:
            profiler.enable()
        for _ in range(episodes):
            loop.run_episode(env, iteration, metrics, finite)
            iteration += info.max_episode_steps
        total = synchronised_clock() - start
        if profiler is not None:
            profiler.disable()
        for name in ("step", "reset"):
            vars(env).pop(name)  # back to the unwrapped methods for the env-only block
        env_only.append(_env_only_rate(env, env_only_steps, device))
    finally:
        env.close()
    steps = episodes * info.max_episode_steps
    seconds = dict(timers.seconds)
    seconds["other"] = max(total - sum(seconds.values()), 0.0)
    env_rate = steps * info.num_tasks * info.envs_per_task / total
    env_only_rate = statistics.mean(env_only)
    if profiler is not None and profile:
        profiler.dump_stats(profile)
    return TrainRow(
        config=str(config), precision=cfg.agent.sac.precision, benchmark=info.benchmark, num_tasks=info.num_tasks,
        envs_per_task=info.envs_per_task,
        vector_strategy=str(info.extra.get("vector_strategy", "-")), device=str(device), vector_steps=steps,
        env_steps_per_s=env_rate, updates_per_s=(agent.num_updates - updates_before) / total,
        env_only_steps_per_s=env_only_rate, x_env_only=env_rate / env_only_rate,
        ms_per_step={part: 1000 * seconds.get(part, 0.0) / steps for part in PARTS},
        share={part: seconds.get(part, 0.0) / total for part in PARTS},
    )


def top_profile(path: str, limit: int = 15) -> str:
    """The ``limit`` functions with the most own time in a pstats file, as text."""
    out = io.StringIO()
    pstats.Stats(path, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def run(configs: Sequence[str] = ("configs/mt10_mtsac.yaml", "configs/synthetic.yaml"),
        overrides: Sequence[str] = (), episodes: int = 1, warmup_episodes: int = 1, episode_steps: int = 100,
        env_only_steps: int = 200, profile: str | None = None, precisions: Sequence[str] = ("fp32",),
        emit: Callable[[str], None] = print) -> list[TrainRow]:
    """Measure every config in every precision (``agent.sac.precision``, one after the other); prints a table
    plus one JSON line per row through ``emit``. With ``profile`` (a directory), one pstats file per config and
    precision is written there and its top entries are printed."""
    rows = []
    for i, config in enumerate(configs):
        fp32_rate = None
        for precision in precisions:
            profile_path = None
            if profile:
                Path(profile).mkdir(parents=True, exist_ok=True)
                profile_path = str(Path(profile) / f"{i}-{Path(config).stem}-{precision}.pstats")
            row = measure(config, [*overrides, f"agent.sac.precision={precision}"], episodes, warmup_episodes,
                          episode_steps, env_only_steps, profile_path)
            if precision == "fp32":
                fp32_rate = row.env_steps_per_s
            if fp32_rate is not None:
                row.x_fp32 = fp32_rate / row.env_steps_per_s
            rows.append(row)
            _emit_row(row, profile_path, emit)
    return rows


def _emit_row(row: TrainRow, profile_path: str | None, emit: Callable[[str], None]) -> None:
    """The table of one row (and its profile's top entries), then its JSON line."""
    x_fp32 = "" if row.x_fp32 is None else f", {row.x_fp32:.2f}x the fp32 time per step"
    emit(f"\n{row.config} ({row.precision}{x_fp32}): {row.benchmark}, T={row.num_tasks} x E={row.envs_per_task}, "
         f"{row.vector_strategy}, {row.device}, {row.vector_steps} vector steps timed")
    emit(f"train: {row.env_steps_per_s:.0f} env steps/s, {row.updates_per_s:.1f} updates/s; env only: "
         f"{row.env_only_steps_per_s:.0f} env steps/s; train / env only = {row.x_env_only:.2f}")
    emit(f"{'part':<8} {'ms/step':>9} {'share':>7}")
    for part in PARTS:
        emit(f"{part:<8} {row.ms_per_step[part]:9.2f} {row.share[part]:7.2f}")
    if profile_path:
        emit(top_profile(profile_path))
    emit(json_line(row, "train"))
