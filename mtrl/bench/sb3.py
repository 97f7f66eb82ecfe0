"""``mtrl bench sb3``: mtrl's MTSAC on one task against Stable-Baselines3's SAC on the same task, in one run.

Both learners get the same config: the task (``reach-v3`` from ``configs/mt1_reach.yaml``, or one task of the
synthetic benchmark from ``configs/synthetic.yaml``), network sizes, batch size, learning rates, gamma, tau, random
steps, budget and seed; SB3's agent is built by the baseline arm (:func:`mtrl.agents.sb3_baseline.build_model`).

* **Update time**: seconds per gradient update (critics, actor, temperature, targets; sampling the batch included)
  on a replay buffer of random transitions, interleaved rounds, median. SB3 is timed as its training loop calls it
  with ``train_freq=1``: one ``train(gradient_steps=1)`` per update (``sb3-sac``), and also with all updates in one
  call (``sb3-sac-batched``, its per-call overhead amortised). The ratio ``ours / sb3-sac`` is measured in the same
  process, so the machine's speed cancels. Ours includes its global gradient-norm clip (``max_grad_norm``; SB3's
  SAC has none).
* **Learning curves**: both learners trained through ``mtrl train`` (``agent.name=mtsac`` and
  ``sb3_sac_per_task``) and evaluated with mtrl's protocol every ``eval_every`` steps; success vs steps of both on one
  PNG per run (a panel per env).
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtrl.bench.harness import Case, Column, Timing, emit_table, json_line, paired_ratios, time_interleaved
from mtrl.config import RunConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
UPDATE_COLUMNS = (Column("env", 10, left=True), Column("learner", 16, left=True), Column("hidden", 16, left=True),
                  Column("ms/update", 10, ".2f"), Column("x sb3-sac", 10, ".2f"), Column(" rounds' range", 0))
ENVS: dict[str, tuple[str, list[str]]] = {  # name -> (config, overrides)
    "reach-v3": ("configs/mt1_reach.yaml", []),
    "synthetic": ("configs/synthetic.yaml", ["env.synthetic_num_tasks=1"]),
}


@dataclass
class UpdateTiming:
    """One learner's update time on one env."""

    env: str
    learner: str  # mtsac | sb3-sac (one train() call per update) | sb3-sac-batched (one call for all)
    ms_per_update: float  # median over the rounds
    x_sb3: float  # median over the rounds of this time / sb3-sac's time in the same round (ours <= 0.7: target)
    x_sb3_range: tuple[float, float]  # the lowest and highest of those per-round ratios
    batch: int
    hidden: list[int]
    threads: int


@dataclass
class Curve:
    """One learner's training run on one env."""

    env: str
    learner: str  # mtsac | sb3-sac
    steps: int
    final_success: float
    curve: list[tuple[int, float]]  # (step, mean success) of every evaluation
    train_s: float
    run_dir: str


def bench_config(env: str, batch: int, hidden: Sequence[int] | None, overrides: Sequence[str] = ()) -> RunConfig:
    """The shared config of both learners on ``env`` (CPU, one task)."""
    if env not in ENVS:
        raise ValueError(f"unknown env {env!r}; valid: {', '.join(ENVS)}")
    path, env_overrides = ENVS[env]
    items = [*env_overrides, "device=cpu", f"agent.sac.batch_size_per_task={batch}", "train.progress=false"]
    if hidden:
        sizes = "[" + ",".join(str(h) for h in hidden) + "]"
        items += [f"agent.sac.actor.hidden_sizes={sizes}", f"agent.sac.critic.hidden_sizes={sizes}"]
    return load_config(ROOT / path, [*items, *overrides])


def time_updates(cfg: RunConfig, iters: int, rounds: int) -> dict[str, Timing]:
    """Seconds per update of MTSAC (T=1) and SB3's SAC, both built from ``cfg``, on the same random data: one
    figure per round for each learner (the learners take turns within a round, so a round's figures saw the
    same machine state)."""
    from envs.single_task import make_single_task_env
    from mtrl.agents.registry import build_agent
    from mtrl.agents.sb3_baseline import build_model, make_task_vec_env
    from mtrl.bench.fixtures import update_case
    from mtrl.replay import TaskReplayBuffer

    device = torch.device("cpu")
    probe = make_single_task_env(cfg.env, 0, cfg.seed)
    obs_dim, action_dim = probe.observation_space.shape[0], probe.action_space.shape[0]
    probe.close()
    batch = cfg.agent.sac.batch_size_per_task
    n = 4 * batch
    g = torch.Generator().manual_seed(0)
    obs, next_obs = torch.randn(1, n, obs_dim, generator=g), torch.randn(1, n, obs_dim, generator=g)
    action = torch.rand(1, n, action_dim, generator=g) * 2 - 1
    reward = torch.rand(1, n, generator=g)

    torch.manual_seed(cfg.seed)
    agent = build_agent(cfg, obs_dim, action_dim, 1, device)
    buffer = TaskReplayBuffer(1, n, obs_dim, action_dim, device)
    buffer.add(obs, action, reward, next_obs, torch.zeros(1, n))

    sb3_cfg = copy.deepcopy(cfg)
    sb3_cfg.agent.name = "sb3_sac_per_task"
    env = make_task_vec_env(sb3_cfg, 0)
    model = build_model(sb3_cfg, 0, env, 1, device)
    for i in range(n):
        model.replay_buffer.add(obs[0, i : i + 1].numpy(), next_obs[0, i : i + 1].numpy(),
                                action[0, i : i + 1].numpy(), reward[0, i : i + 1].numpy(), [False], [{}])
    model._current_progress_remaining = 1.0

    cases = [
        update_case("mtsac", agent, buffer, batch),
        Case.of_call("sb3-sac", lambda: model.train(gradient_steps=1, batch_size=batch)),
        Case("sb3-sac-batched", lambda k: model.train(gradient_steps=k, batch_size=batch)),
    ]
    timings = time_interleaved(cases, iters, rounds, warmup_iters=3)
    env.close()
    return timings


def train_curve(cfg: RunConfig, learner: str, run_dir: Path) -> Curve:
    """Train ``learner`` (``mtsac`` | ``sb3-sac``) with ``cfg`` in ``run_dir``; its evaluations as a curve."""
    from mtrl.train import train

    cfg.agent.name = {"mtsac": "mtsac", "sb3-sac": "sb3_sac_per_task"}[learner]
    cfg.run_dir = str(run_dir)
    start = time.perf_counter()
    _, result = train(cfg)
    train_s = time.perf_counter() - start
    rows = [json.loads(line) for line in (run_dir / "evals.jsonl").read_text().splitlines()]
    return Curve(env="", learner=learner, steps=int(result.step or 0), final_success=result.mean_success,
                 curve=[(int(r["step"]), float(r["mean_success"])) for r in rows], train_s=train_s,
                 run_dir=str(run_dir))


def plot_curves(curves: list[Curve], path: Path) -> None:
    """Success vs steps of every learner, one panel per env, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(c.env for c in curves))
    fig, axes = plt.subplots(1, len(envs), figsize=(5.2 * len(envs), 3.8), squeeze=False)
    styles = {"mtsac": ("tab:blue", "mtrl MTSAC (T=1)"), "sb3-sac": ("tab:orange", "SB3 SAC")}
    for ax, env in zip(axes[0], envs, strict=True):
        for c in (c for c in curves if c.env == env):
            color, label = styles[c.learner]
            steps, success = zip(*c.curve, strict=True) if c.curve else ((), ())
            ax.plot(steps, success, marker="o", markersize=3, color=color, label=f"{label}, {c.train_s:.0f} s")
        ax.set_title(env)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("success rate (mtrl protocol)")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle("Same task, network, batch size and budget")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(envs: Sequence[str] = ("reach-v3", "synthetic"), batch: int = 256, hidden: Sequence[int] | None = None,
        iters: int = 30, rounds: int = 3, steps: int | None = 20_000, synthetic_steps: int | None = None,
        eval_every: int | None = None, eval_episodes: int = 50, out: str | Path = "runs/bench_sb3",
        curves: bool = True, threads: int | None = None, overrides: Sequence[str] = (),
        emit: Callable[[str], None] = print) -> dict[str, Any]:
    """Time the updates and (with ``curves``) train both learners on every env; print a table and JSON lines.

    Args:
        envs: ``reach-v3`` and/or ``synthetic``.
        batch: batch size of both (SB3's default is 256).
        hidden: hidden sizes of every network (default: the env's config: 3x400 for reach-v3, 2x64 synthetic).
        iters, rounds: updates per timed round; interleaved rounds (medians reported, the ratio as the median
            of the per-round ratios, with their range).
        steps: Meta-World training budget per learner (None: the config's 500k).
        synthetic_steps: synthetic budget (None: the config's 4000).
        eval_every: steps between evaluations (default: a quarter of the budget).
        eval_episodes: evaluation episodes (the protocol: 50).
        out: where the runs, ``curves.png`` and ``results.jsonl`` go.
        curves: train both learners (False: update times only).
        threads: torch CPU threads (default: torch's).
        overrides: more ``key=value`` overrides of both learners' config.
    """
    if threads:
        torch.set_num_threads(threads)
    out = Path(out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    timings: list[UpdateTiming] = []
    results: list[Curve] = []
    for env in envs:
        cfg = bench_config(env, batch, hidden, overrides)
        sizes = list(cfg.agent.sac.actor.hidden_sizes)
        per_round = time_updates(cfg, iters, rounds)
        for learner, timing in per_round.items():
            ratios = paired_ratios(timing, per_round["sb3-sac"])
            timings.append(UpdateTiming(env, learner, 1000 * timing.median, statistics.median(ratios),
                                        (min(ratios), max(ratios)), batch, sizes, torch.get_num_threads()))
        if curves:
            budget = steps if env != "synthetic" else synthetic_steps
            budget = budget or cfg.train.total_steps_per_task
            every = eval_every or max(1, budget // 4)
            for learner in ("mtsac", "sb3-sac"):
                run_cfg = bench_config(env, batch, hidden, [
                    f"train.total_steps_per_task={budget}", f"train.eval_every={every}",
                    f"train.checkpoint_every={budget}", f"train.log_every={min(every, 5000)}",
                    f"train.eval_episodes={eval_episodes}", *overrides])
                curve = train_curve(run_cfg, learner, out / stamp / f"{env}-{learner}")
                curve.env = env
                results.append(curve)

    emit(f"\nupdate time, CPU, batch {batch}, {torch.get_num_threads()} torch threads (median of {rounds} rounds "
         f"x {iters} updates)")
    emit_table(emit, UPDATE_COLUMNS, [(t.env, t.learner, str(t.hidden), t.ms_per_update, t.x_sb3,
                                       " {:.2f}-{:.2f}".format(*t.x_sb3_range)) for t in timings])
    if results:
        emit("\nlearning (mtrl evaluation protocol)")
        emit(f"{'env':<10} {'learner':<10} {'steps':>8} {'success':>8} {'train s':>8}  curve (step: success)")
        for c in results:
            points = ", ".join(f"{s}: {v:.2f}" for s, v in c.curve)
            emit(f"{c.env:<10} {c.learner:<10} {c.steps:8d} {c.final_success:8.2f} {c.train_s:8.0f}  {points}")
    lines = [json_line(t, "sb3-update") for t in timings] + [json_line(c, "sb3-curve") for c in results]
    for line in lines:
        emit(line)
    summary: dict[str, Any] = {"timings": timings, "curves": results}
    if results or timings:
        target = out / stamp
        target.mkdir(parents=True, exist_ok=True)
        (target / "results.jsonl").write_text("".join(line + "\n" for line in lines))
        if results:
            plot_curves(results, target / "curves.png")
            summary["plot"] = target / "curves.png"
            emit(f"learning curves: {target / 'curves.png'}")
    return summary
