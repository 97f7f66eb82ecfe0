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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from mtrl.agents.ppo import MTPPO, Rollout
from mtrl.agents.ppo_config import PPOConfig
from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.bench.fixtures import ACTION_DIM, OBS_DIM, random_replay, update_case
from mtrl.bench.harness import Case, Column, emit_json, emit_table, time_interleaved
from mtrl.nets.net_config import NetConfig
from mtrl.replay import TaskReplayBuffer
from mtrl.surgery import make_surgery

PPO_SAMPLES_PER_TASK = 10 * 500  # configs/mt10_mtppo.yaml: envs_per_task x episode length
PPO_MINIBATCHES, PPO_EPOCHS = 32, 16  # configs/mt10_mtppo.yaml
COLUMNS = (Column("mode", 18, left=True), Column("precision", 9, left=True), Column("ms/update", 10, ".1f"),
           Column("updates/s", 10, ".1f"), Column("x eager", 8, ".2f"), Column("x fp32", 7, ".2f"),
           Column("compile s", 10, ".1f"))


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


class _SACCase:
    def __init__(self, T: int, compile: bool, device: torch.device, hidden: list[int], batch: int,
                 buffer: TaskReplayBuffer, precision: str = "fp32", name: str = "") -> None:
        torch.manual_seed(0)
        cfg = SACConfig(actor=NetConfig(hidden_sizes=list(hidden)), critic=NetConfig(hidden_sizes=list(hidden)),
                        batch_size_per_task=batch, compile=compile, precision=precision)
        self.agent = MTSAC(OBS_DIM, ACTION_DIM, T, cfg, make_surgery("mean", T), make_surgery("mean", T), device)
        self.case = update_case(name, self.agent, buffer, batch)

    @property
    def fell_back(self) -> bool:
        fns = [self.agent.target_q, *self.agent.critic_update._batched_losses.values(),
               *self.agent.actor_update._batched_losses.values()]
        return any(getattr(fn, "error", None) is not None for fn in fns)


class _PPOCase:
    def __init__(self, T: int, compile: bool, device: torch.device, hidden: list[int], minibatch: int,
                 minibatches: int, precision: str = "fp32", name: str = "") -> None:
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
        # timed per minibatch step: one ``update`` call is ``minibatches`` steps
        self.case = Case.of_call(name, lambda: self.agent.update(self.rollout), units=minibatches)

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
            cases: dict[tuple[str, str], _SACCase | _PPOCase] = {}  # (mode, precision) -> case
            if algo == "mtsac":
                torch.manual_seed(0)
                buffer = random_replay(T, 4 * batch_size_per_task, torch_device)
                for mode, precision in itertools.product(modes, precisions):
                    cases[mode, precision] = _SACCase(T, mode == "compiled", torch_device, list(hidden),
                                                      batch_size_per_task, buffer, precision, f"{mode}/{precision}")
                batch = batch_size_per_task
            else:
                for mode, precision in itertools.product(modes, precisions):
                    cases[mode, precision] = _PPOCase(T, mode == "compiled", torch_device, list(hidden),
                                                      ppo_minibatch, minibatches_timed, precision,
                                                      f"{mode}/{precision}")
                batch = ppo_minibatch
            timings = time_interleaved([case.case for case in cases.values()], iters, rounds)  # compiles in warm-up
            medians = {key: timings[case.case.name].median for key, case in cases.items()}
            what = "full update" if algo == "mtsac" else "minibatch step (x512 per rollout update)"
            new_rows = []
            for (mode, precision), case in cases.items():
                t = medians[mode, precision]
                eager = medians.get(("eager", precision), t)
                fp32 = medians.get((mode, "fp32"))
                label = "compiled-fallback" if mode == "compiled" and case.fell_back else mode
                compile_s = timings[case.case.name].warmup_s if mode == "compiled" else 0.0
                new_rows.append(UpdateRow(algo, T, label, precision, batch, 1000 * t, 1 / t, eager / t,
                                          None if fp32 is None else t / fp32, compile_s, str(torch_device)))
            emit_table(emit, COLUMNS, [(r.mode, r.precision, r.ms_per_update, r.updates_per_s, r.x_eager, r.x_fp32,
                                        r.compile_s) for r in new_rows],
                       f"{algo} {what}, T={T}, {batch}/task, MLP {list(hidden)}, {torch_device}")
            emit_json(emit, new_rows, "update")
            rows.extend(new_rows)
    return rows
