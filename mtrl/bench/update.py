"""``mtrl bench update``: MTSAC and MTPPO update time, eager vs compiled (``agent.*.compile``) and fp32 vs bf16
or tf32 (``agent.*.precision``), in one run.

* MTSAC: one full update (critics, actor, temperatures, targets) on a ``(T, batch)`` sample of a replay buffer
  filled with random transitions; 3x400 MLPs, one head per task, batch 128 per task (the standard MT10/MT50
  setting).
* MTPPO: one minibatch step (actor and critic) with the shapes of ``configs/mt10_mtppo.yaml``: a rollout of
  10 copies x 500 steps = 5,000 samples per task split into 32 minibatches, i.e. 156 samples per task per
  step; a full rollout update is ``epochs x minibatches`` = 512 such steps. Timed through ``MTPPO.update`` on a
  rollout of ``minibatches_timed`` minibatches, one epoch.

Compilation happens in the warm-up round (its time is reported separately, ``compile_s``); the timed rounds are
interleaved between all agents of one (algorithm, T) and the median is reported; ``x_eager`` and ``x_fp32`` are
ratios of those medians.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from mtrl.agents.ppo import MTPPO, PPOConfig, Rollout
from mtrl.agents.sac import MTSAC, SACConfig
from mtrl.bench.timing import time_updates
from mtrl.nets.network import NetConfig
from mtrl.replay import TaskReplayBuffer
from mtrl.surgery import make_surgery

OBS_DIM, ACTION_DIM = 39, 4  # Meta-World
PPO_SAMPLES_PER_TASK = 10 * 500  # configs/mt10_mtppo.yaml: envs_per_task x episode length
PPO_MINIBATCHES, PPO_EPOCHS = 32, 16  # configs/mt10_mtppo.yaml


@dataclass
class UpdateRow:
    """One measured agent.

    Attributes:
        algo: ``mtsac`` (one full update) or ``mtppo`` (one minibatch step of actor and critic).
        num_tasks: ``T``.
        mode: ``eager`` | ``compiled`` (``compiled-fallback`` if compilation failed and it ran eagerly).
        precision: ``fp32`` | ``bf16`` | ``tf32`` (``agent.*.precision``).
        batch_per_task: samples per task in one update (SAC batch or PPO minibatch).
        ms_per_update: median over rounds.
        updates_per_s: ``1000 / ms_per_update``.
        x_eager: the eager agent's time (same precision) over this one's (a speedup; 1.0 for eager).
        x_fp32: this agent's time over the fp32 agent's (same mode), as the issue states ratios: < 1 is faster;
            ``None`` when fp32 was not measured.
        compile_s: seconds of the first (compiling) call, 0 for eager.
        device: ``cpu`` | ``cuda...``.
    """

    algo: str
    num_tasks: int
    mode: str
    precision: str
    batch_per_task: int
    ms_per_update: float
    updates_per_s: float
    x_eager: float
    x_fp32: float | None
    compile_s: float
    device: str

    def to_json(self) -> str:
        return json.dumps({"bench": "update", **vars(self)})


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _SACCase:
    def __init__(self, T: int, compile: bool, device: torch.device, hidden: list[int], batch: int,
                 buffer: TaskReplayBuffer, precision: str = "fp32") -> None:
        torch.manual_seed(0)
        cfg = SACConfig(actor=NetConfig(hidden_sizes=list(hidden)), critic=NetConfig(hidden_sizes=list(hidden)),
                        batch_size_per_task=batch, compile=compile, precision=precision)
        self.agent = MTSAC(OBS_DIM, ACTION_DIM, T, cfg, make_surgery("mean", T), make_surgery("mean", T), device)
        self.buffer, self.batch, self.device = buffer, batch, device

    def time(self, iters: int) -> float:
        return time_updates(self.agent, self.buffer, self.batch, iters, self.device)

    @property
    def fell_back(self) -> bool:
        fns = [self.agent.target_q, *self.agent.critic_update._batched_losses.values(),
               *self.agent.actor_update._batched_losses.values()]
        return any(getattr(fn, "error", None) is not None for fn in fns)


class _PPOCase:
    def __init__(self, T: int, compile: bool, device: torch.device, hidden: list[int], minibatch: int,
                 minibatches: int, precision: str = "fp32") -> None:
        torch.manual_seed(0)
        net = NetConfig(hidden_sizes=list(hidden))
        cfg = PPOConfig(actor=net, critic=NetConfig(hidden_sizes=list(hidden)), epochs=1, minibatches=minibatches,
                        target_kl=None, compile=compile, precision=precision)
        self.agent = MTPPO(OBS_DIM, ACTION_DIM, T, cfg, make_surgery("mean", T), make_surgery("mean", T), device)
        S = minibatch * minibatches  # one copy per task: the rollout's sample count per task
        g = torch.Generator(device="cpu").manual_seed(1)

        def rand(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=g).to(device)

        advantages, values = rand(S, T, 1), rand(S, T, 1)
        self.rollout = Rollout(rand(S, T, 1, OBS_DIM), rand(S, T, 1, ACTION_DIM), -rand(S, T, 1).abs() - 3.0,
                               values, advantages, advantages + values)
        self.minibatches, self.device = minibatches, device

    def time(self, iters: int) -> float:
        """Seconds per minibatch step, over ``iters`` calls of ``update`` (each ``minibatches`` steps)."""
        _sync(self.device)
        start = time.perf_counter()
        for _ in range(iters):
            self.agent.update(self.rollout)
        _sync(self.device)
        return (time.perf_counter() - start) / (iters * self.minibatches)

    @property
    def fell_back(self) -> bool:
        fns = [*self.agent.critic_update._batched_losses.values(), *self.agent.actor_update._batched_losses.values()]
        return any(getattr(fn, "error", None) is not None for fn in fns)


def run(
    algos: Sequence[str] = ("mtsac", "mtppo"),
    task_counts: Sequence[int] = (10, 50),
    modes: Sequence[str] = ("eager", "compiled"),
    precisions: Sequence[str] = ("fp32",),
    iters: int = 5,
    rounds: int = 3,
    batch_size_per_task: int = 128,
    hidden: Sequence[int] = (400, 400, 400),
    minibatches_timed: int = 4,
    device: str = "cpu",
    emit: Callable[[str], None] = print,
) -> list[UpdateRow]:
    """Time every (algorithm, T, mode); returns rows and prints a table plus one JSON line per row via ``emit``.

    Args:
        algos: ``mtsac`` and/or ``mtppo``.
        task_counts: numbers of tasks ``T`` (MT10: 10, MT50: 50).
        modes: ``eager`` and/or ``compiled``.
        precisions: ``fp32``, ``bf16`` and/or ``tf32`` (CUDA); every mode runs in every precision.
        iters: SAC updates (PPO: ``update`` calls of ``minibatches_timed`` steps) per timed round.
        rounds: interleaved timed rounds after the warm-up (median reported).
        batch_size_per_task: the SAC batch per task.
        hidden: hidden sizes of every MLP.
        minibatches_timed: PPO minibatch steps per ``update`` call.
        device: ``cpu`` | ``cuda``.
    """
    torch_device = torch.device(device)
    ppo_minibatch = PPO_SAMPLES_PER_TASK // PPO_MINIBATCHES
    rows: list[UpdateRow] = []
    for algo in algos:
        if algo not in ("mtsac", "mtppo"):
            raise ValueError(f"unknown algorithm {algo!r}; valid: mtsac, mtppo")
        for T in task_counts:
            cases: dict[tuple[str, str], Any] = {}  # (mode, precision) -> case
            if algo == "mtsac":
                torch.manual_seed(0)
                n = 4 * batch_size_per_task
                buffer = TaskReplayBuffer(T, n, OBS_DIM, ACTION_DIM, torch_device)
                buffer.add(torch.randn(T, n, OBS_DIM), torch.rand(T, n, ACTION_DIM) * 2 - 1, torch.rand(T, n),
                           torch.randn(T, n, OBS_DIM), torch.zeros(T, n))
                for mode, precision in itertools.product(modes, precisions):
                    cases[mode, precision] = _SACCase(T, mode == "compiled", torch_device, list(hidden),
                                                      batch_size_per_task, buffer, precision)
                batch = batch_size_per_task
            else:
                for mode, precision in itertools.product(modes, precisions):
                    cases[mode, precision] = _PPOCase(T, mode == "compiled", torch_device, list(hidden),
                                                      ppo_minibatch, minibatches_timed, precision)
                batch = ppo_minibatch
            compile_s = {}
            for key, case in cases.items():  # warm-up; the compiled agents compile here
                start = time.perf_counter()
                case.time(1)
                compile_s[key] = time.perf_counter() - start if key[0] == "compiled" else 0.0
            times: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
            for _ in range(rounds):
                for key, case in cases.items():
                    times[key].append(case.time(iters))
            medians = {key: statistics.median(ts) for key, ts in times.items()}
            what = "full update" if algo == "mtsac" else "minibatch step (x512 per rollout update)"
            emit(f"\n{algo} {what}, T={T}, {batch}/task, MLP {list(hidden)}, {torch_device}")
            emit(f"{'mode':<18} {'precision':<9} {'ms/update':>10} {'updates/s':>10} {'x eager':>8} {'x fp32':>7} "
                 f"{'compile s':>10}")
            new_rows = []
            for (mode, precision), case in cases.items():
                t = medians[mode, precision]
                eager = medians.get(("eager", precision), t)
                fp32 = medians.get((mode, "fp32"))
                label = "compiled-fallback" if mode == "compiled" and case.fell_back else mode
                row = UpdateRow(algo, T, label, precision, batch, 1000 * t, 1 / t, eager / t,
                                None if fp32 is None else t / fp32, compile_s[mode, precision], str(torch_device))
                new_rows.append(row)
                x_fp32 = "-" if row.x_fp32 is None else f"{row.x_fp32:.2f}"
                emit(f"{label:<18} {precision:<9} {row.ms_per_update:10.1f} {row.updates_per_s:10.1f} "
                     f"{row.x_eager:8.2f} {x_fp32:>7} {row.compile_s:10.1f}")
            for row in new_rows:
                emit(row.to_json())
            rows.extend(new_rows)
    return rows
