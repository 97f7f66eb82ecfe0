"""``mtrl bench env``: environment steps per second of the Meta-World backends, as ratios measured in one run.

For each benchmark (``MT10``, ``MT50`` or ``custom:task-a,task-b``) the benchmark builds:

* ``metaworld-sync``: the plain ``metaworld`` vector env, ``gym.make_vec("Meta-World/MT10", vector_strategy="sync")``
  (one sub-env per task, metaworld's own wrappers and autoreset): the baseline every ratio is taken against;
* ``reference-<strategy>-E<k>``: :class:`~envs.metaworld_env.MetaWorldVectorEnv` (``make_env``), for every
  requested vector strategy and ``envs_per_task``, including its torch conversions and masked resets;
* ``fast-sync-E<k>``: :class:`~envs.fast_metaworld.FastMetaWorldVectorEnv` (``env.backend=fast``), the same
  simulator stepped without metaworld's per-step Python (parity-tested task kernels);
* ``physics``: only ``mujoco.mj_step(model, data, nstep=frame_skip)`` on copies of the plain env's models and
  states (the hand's mocap target and the gripper control written first, as metaworld does, so the arm moves
  and touches things as in a real step): the bare physics limit. ``1 - physics / env`` time is
  the share of a step spent in Python (reward code, observation assembly, wrappers);
* ``warp-<device>-W<k>`` (with ``--warp-worlds``): the MuJoCo Warp backend with ``k`` worlds per task, timed in
  the Warp environment after the CPU variants (not interleaved: it runs on another device);
* ``envpool-native`` (with ``--envpool``, when installed): envpool's native Meta-World v3 pools, one per task,
  one thread each, stepped in turn. They hide the goal and resample it from the full range (no 50 fixed goals,
  no state or goal injection), so they are a speed reference, not a backend (see README, "Benchmarks").

Every variant steps the same pre-drawn uniform random actions (fixed seed) for ``steps`` vector steps per round,
resetting at episode ends; variants are timed in interleaved rounds after one warm-up round, and the median
round is reported, so slow drifts of a shared machine hit every variant alike. Rates are env steps per second
(vector steps x sub-envs).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mtrl.bench.harness import Case, Column, emit_json, emit_table, time_interleaved

ACTION_DIM = 4
WARMUP_STEPS = 50
COLUMNS = (Column("variant", 26, left=True), Column("envs", 5), Column("steps/s", 9, ".0f"),
           Column("x metaworld-sync", 17, ".2f"), Column("x physics", 10, ".2f"), Column("python share", 13, ".2f"))
BASELINE = "metaworld-sync"
PHYSICS = "physics"


@dataclass
class EnvRow:
    """One measured variant.

    Attributes:
        benchmark: ``MT10`` | ``MT50`` | ``custom:...``.
        variant: ``metaworld-sync`` | ``reference-<sync|async>-E<k>`` | ``fast-sync-E<k>`` | ``physics`` |
            ``envpool-native``.
        num_envs: sub-envs stepped together.
        steps_per_s: env steps per second (median round).
        x_metaworld_sync: ``steps_per_s`` over the plain metaworld sync vector env's, same run.
        x_physics: ``steps_per_s`` over the bare physics limit's (1.0 for the physics row itself).
        python_share: ``1 - x_physics``: the share of a step's time not spent in ``mj_step`` (0 for physics).
        rounds: timed rounds; ``steps``: vector steps per round.
    """

    benchmark: str
    variant: str
    num_envs: int
    steps_per_s: float
    x_metaworld_sync: float
    x_physics: float
    python_share: float
    rounds: int
    steps: int


class _Stepper:
    """A variant: ``load(actions)`` takes a round's ``(steps, num_envs, 4)`` actions (untimed), ``run()`` steps
    through them (timed)."""

    name: str
    num_envs: int

    def load(self, actions: np.ndarray) -> None:
        self.actions = actions

    def run(self) -> None:
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


def _task_list(benchmark: str) -> list[str]:
    if benchmark.startswith("custom:"):
        tasks = [t for t in benchmark.split(":", 1)[1].split(",") if t]
        if not tasks:
            raise ValueError("custom benchmark needs task names: custom:reach-v3,push-v3")
        return tasks
    if benchmark not in ("MT10", "MT50"):
        raise ValueError(f"unknown benchmark {benchmark!r}; valid: MT10, MT50, custom:task-a,task-b")
    return []


class _MetaWorldPlain(_Stepper):
    """``gym.make_vec`` straight from the ``metaworld`` package (autoreset: metaworld's default)."""

    def __init__(self, benchmark: str, seed: int) -> None:
        import gymnasium as gym
        import metaworld  # noqa: F401 - registers the Meta-World/* ids

        tasks = _task_list(benchmark)
        if tasks:
            self.env = gym.make_vec("Meta-World/custom-mt-envs", envs_list=tasks, vector_strategy="sync", seed=seed)
        else:
            self.env = gym.make_vec(f"Meta-World/{benchmark}", vector_strategy="sync", seed=seed)
        self.env.reset(seed=seed)
        self.name, self.num_envs = BASELINE, self.env.num_envs

    def run(self) -> None:
        for action in self.actions:
            self.env.step(action)

    def close(self) -> None:
        self.env.close()


class _Physics(_Stepper):
    """Bare ``mj_step`` calls on copies of the plain env's models and (reset) states."""

    def __init__(self, plain: _MetaWorldPlain) -> None:
        import mujoco

        self._mj_step = mujoco.mj_step
        self.sims = []
        for sub_env in plain.env.envs:  # type: ignore[attr-defined]
            raw = sub_env.unwrapped
            self.sims.append((raw.model, copy.deepcopy(raw.data), int(raw.frame_skip)))
            self._scale, self._low, self._high = raw.action_scale, raw.mocap_low, raw.mocap_high
        self._initial = [copy.deepcopy(data) for _, data, _ in self.sims]
        self.name, self.num_envs = PHYSICS, len(self.sims)

    def load(self, actions: np.ndarray) -> None:
        self.actions, self.moves = actions, actions[..., :3] * self._scale
        # start every round from the reset states (random gripper commands for long would drift the scene)
        self.sims = [(m, copy.deepcopy(d0), fs) for (m, _, fs), d0 in zip(self.sims, self._initial, strict=True)]

    def run(self) -> None:
        mj_step, low, high = self._mj_step, self._low, self._high
        for action, move in zip(self.actions, self.moves, strict=True):
            for (model, data, frame_skip), a, m in zip(self.sims, action, move, strict=True):
                # what metaworld writes before simulating: the hand's mocap target and the gripper command
                data.mocap_pos[0] = np.clip(data.mocap_pos[0] + m, low, high)
                data.ctrl[0] = a[3]
                data.ctrl[1] = -a[3]
                mj_step(model, data, nstep=frame_skip)


class _Backend(_Stepper):
    """An mtrl Meta-World backend through ``make_env`` (``reference``: metaworld's step; ``fast``: the task
    kernels), resetting ended sub-envs."""

    def __init__(self, benchmark: str, seed: int, strategy: str, envs_per_task: int, backend: str) -> None:
        from envs import EnvConfig, make_env

        tasks = _task_list(benchmark)
        cfg = EnvConfig(benchmark="custom" if tasks else benchmark, tasks=tasks, envs_per_task=envs_per_task,
                        vector_strategy=strategy, backend=backend)
        self.env = make_env(cfg, seed=seed)
        self.env.reset()
        self.T, self.E = self.env.num_tasks, envs_per_task
        self.num_envs = self.T * self.E
        self.name = f"{backend}-{strategy}-E{envs_per_task}"

    def load(self, actions: np.ndarray) -> None:
        # the actions arrive as the loop would hand them over: torch tensors shaped (T, E, A)
        self.actions = torch.from_numpy(actions).view(len(actions), self.T, self.E, ACTION_DIM)

    def run(self) -> None:
        env = self.env
        for action in self.actions:
            result = env.step(action)
            done = result.done
            if done.any():
                env.reset(mask=done)

    def close(self) -> None:
        self.env.close()


class _EnvpoolNative(_Stepper):
    """envpool's native Meta-World v3 tasks: one pool per task, ``E`` envs and one thread each, stepped in turn
    (the same one-core budget as the sync vector envs). Goal observable; its own goal sampling."""

    def __init__(self, task_names: Sequence[str], seed: int, envs_per_task: int) -> None:
        import envpool
        from envpool.mujoco.metaworld.registration import metaworld_task_id

        self.pools = [envpool.make_gymnasium(metaworld_task_id(name), num_envs=envs_per_task, num_threads=1,
                                             seed=seed + i, partially_observable=False)
                      for i, name in enumerate(task_names)]
        for pool in self.pools:
            pool.reset()
        self.E = envs_per_task
        self.num_envs = len(self.pools) * envs_per_task
        self.name = f"envpool-native-E{envs_per_task}"

    def load(self, actions: np.ndarray) -> None:
        E = self.E
        self.steps = len(actions)
        self.per_pool = [actions[:, i * E:(i + 1) * E] for i in range(len(self.pools))]

    def run(self) -> None:
        for s in range(self.steps):
            for pool, pool_actions in zip(self.pools, self.per_pool, strict=True):
                pool.step(pool_actions[s])  # envpool autoresets after the 500th step

    def close(self) -> None:
        for pool in self.pools:
            pool.close()


def _time_interleaved(steppers: list[_Stepper], steps: int, rounds: int, seed: int) -> dict[str, float]:
    """Per variant, the median env-steps/s of the timed rounds (after one short warm-up round), every round on
    fresh uniform random actions."""
    rng = np.random.default_rng(seed)

    def case(stepper: _Stepper) -> Case:
        def prepare(n: int) -> None:
            stepper.load(rng.uniform(-1.0, 1.0, (n, stepper.num_envs, ACTION_DIM)).astype(np.float32))

        return Case(stepper.name, lambda _: stepper.run(), prepare=prepare, units=stepper.num_envs)

    timings = time_interleaved([case(s) for s in steppers], steps, rounds, warmup_iters=min(steps, WARMUP_STEPS))
    return {name: 1 / timing.median for name, timing in timings.items()}


def _warp_rates(benchmark: str, seed: int, worlds: Sequence[int], steps: int, device: str) -> dict[str, float]:
    """``{variant: steps/s}`` of the Warp backend, measured by ``mtrl.bench.warp_env`` in the Warp
    environment (a subprocess) on a reset-state export of ``benchmark`` made here."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    from envs.warp_metaworld.reference import export_reset_states
    from mtrl.bench.parity.warp import ROOT, warp_python

    tasks = _task_list(benchmark)
    with tempfile.TemporaryDirectory() as tmp:
        states = export_reset_states("custom" if tasks else benchmark, tasks, seed, Path(tmp) / "states.npz")
        done = subprocess.run([str(warp_python()), "-m", "mtrl.bench.warp_env", "--states", str(states),
                               "--steps", str(steps), "--device", device, "--worlds", *map(str, worlds)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the Warp benchmark failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {row["variant"]: row["steps_per_s"] for row in rows}


def run(
    benchmarks: Sequence[str] = ("MT10", "MT50"),
    strategies: Sequence[str] = ("sync", "async"),
    backends: Sequence[str] = ("reference", "fast"),
    envs_per_task: Sequence[int] = (1,),
    steps: int = 500,
    rounds: int = 3,
    seed: int = 0,
    physics: bool = True,
    envpool: bool = False,
    warp_worlds: Sequence[int] = (),
    warp_device: str = "cuda",
    emit: Callable[[str], None] = print,
) -> list[EnvRow]:
    """Measure every variant; returns the rows and prints a table plus one JSON line per row through ``emit``.

    Args:
        benchmarks: ``MT10``, ``MT50`` or ``custom:task-a,task-b``.
        strategies: vector strategies of the reference backend (``sync``, ``async``).
        backends: mtrl backends to time: ``reference`` (every strategy) and ``fast`` (sync only).
        envs_per_task: copies per task of the mtrl backends (one row per backend, strategy and value).
        steps: vector steps per timed round (episodes are 500 steps; 500 includes one reset).
        rounds: interleaved timed rounds (median reported).
        seed: seeds the envs and the random actions.
        physics: include the bare ``mj_step`` row.
        envpool: include envpool's native Meta-World pools (needs ``pip install envpool``).
        warp_worlds: also time the MuJoCo Warp backend with these worlds per task (in the Warp environment,
            ``scripts/setup_warp_env.sh``), on ``warp_device``, after the CPU variants.
    """
    rows: list[EnvRow] = []
    for benchmark in benchmarks:
        plain = _MetaWorldPlain(benchmark, seed)
        steppers: list[_Stepper] = [plain]
        try:
            if physics:
                steppers.append(_Physics(plain))
            for backend in backends:
                for strategy in strategies if backend == "reference" else ("sync",):
                    for E in envs_per_task:
                        steppers.append(_Backend(benchmark, seed, strategy, E, backend))
            if envpool:
                task_names = _plain_task_names(benchmark)
                for E in envs_per_task:
                    steppers.append(_EnvpoolNative(task_names, seed, E))
            medians = _time_interleaved(steppers, steps, rounds, seed)
        finally:
            for stepper in steppers:
                stepper.close()
        num_envs = {stepper.name: stepper.num_envs for stepper in steppers}
        if warp_worlds:
            for name, sps in _warp_rates(benchmark, seed, warp_worlds, steps, warp_device).items():
                medians[name] = sps
                num_envs[name] = int(name.rsplit("W", 1)[1]) * steppers[0].num_envs
        base = medians[BASELINE]
        phys = medians.get(PHYSICS, float("nan"))
        bench_rows = []
        for name, sps in medians.items():
            x_phys = sps / phys
            bench_rows.append(EnvRow(benchmark, name, num_envs[name], sps, sps / base, x_phys,
                                     0.0 if name == PHYSICS else 1.0 - x_phys, rounds, steps))
        rows.extend(bench_rows)
        emit_table(emit, COLUMNS, [(r.variant, r.num_envs, r.steps_per_s, r.x_metaworld_sync, r.x_physics,
                                    r.python_share) for r in bench_rows],
                   f"{benchmark}: env steps/s, random actions, {steps} vector steps x {rounds} rounds (median), "
                   f"seed {seed}")
        emit_json(emit, bench_rows, "env")
    return rows


def _plain_task_names(benchmark: str) -> list[str]:
    tasks = _task_list(benchmark)
    if tasks:
        return tasks
    from envs import list_tasks

    return list_tasks(benchmark)

