"""``mtrl bench nets``: the cost of every network architecture inside a real MTSAC update, as ratios to the
shared MLP.

For each number of tasks ``T`` (10: MT10 sizes, 50: MT50 sizes) the benchmark builds MTSAC with each architecture's
config (``configs/arch_<name>_mt<T>.yaml``; the baseline is ``configs/mt<T>_mtsac.yaml``: the shared 3x400 MLP
with per-task heads) on random replay data (Meta-World sizes: 39 observation, 4 action numbers; batch 128 per
task) and times full updates (critics + actor + temperatures + targets, plain ``mean`` combiner). It reports the
parameter count (actor + twin critics) and the median update time, each divided by the MLP's measured in the same
run, as a table and one JSON line per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.bench import ARCHS
from mtrl.bench.fixtures import ACTION_DIM, OBS_DIM, random_replay, update_case
from mtrl.bench.harness import Column, emit_json, emit_table, ratios_to, time_interleaved
from mtrl.config import load_config
from mtrl.surgery import make_surgery

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@dataclass
class Row:
    num_tasks: int
    arch: str
    params: int
    params_ratio: float
    ms_per_update: float
    time_ratio: float
    device: str


COLUMNS = (Column("architecture", 22, left=True), Column("params", 10, ","), Column("x mlp", 7, ".2f"),
           Column("ms/update", 10, ".1f"), Column("x mlp", 7, ".2f"))


def sac_config(arch: str, num_tasks: int) -> SACConfig:
    """The architecture's MT10 (``num_tasks`` <= 10) or MT50 config."""
    bench = "mt10" if num_tasks <= 10 else "mt50"
    path = CONFIGS / (f"{bench}_mtsac.yaml" if arch == "mlp" else f"arch_{arch}_{bench}.yaml")
    return load_config(path).agent.sac


def num_params(agent: MTSAC) -> int:
    return sum(p.numel() for module in (agent.actor, agent.critic) for p in module.parameters())


def run(task_counts: Sequence[int] = (10, 50), archs: Sequence[str] = ARCHS, iters: int = 3, rounds: int = 3,
        batch_size_per_task: int = 128, device: str = "cpu", emit: Callable[[str], None] = print) -> list[Row]:
    """Time every architecture; prints a table and one JSON line per row through ``emit``. Architectures are timed
    in ``rounds`` interleaved rounds of ``iters`` updates after one warm-up update; the median round is reported."""
    torch_device = torch.device(device)
    archs = ["mlp", *[a for a in archs if a != "mlp"]]
    rows: list[Row] = []
    for T in task_counts:
        torch.manual_seed(0)
        buffer = random_replay(T, 4 * batch_size_per_task, torch_device)
        agents = {
            arch: MTSAC(OBS_DIM, ACTION_DIM, T, sac_config(arch, T), make_surgery("mean", T),
                        make_surgery("mean", T), device=torch_device)
            for arch in archs
        }
        timings = time_interleaved([update_case(arch, agent, buffer, batch_size_per_task)
                                    for arch, agent in agents.items()], iters, rounds)
        times = ratios_to({arch: timing.median for arch, timing in timings.items()}, "mlp")
        params = {arch: num_params(agent) for arch, agent in agents.items()}
        new_rows = [Row(T, arch, params[arch], params[arch] / params["mlp"], 1000 * timings[arch].median,
                        times[arch], str(torch_device)) for arch in archs]
        sizes = "MT10" if T <= 10 else "MT50"
        emit_table(emit, COLUMNS, [(r.arch, r.params, r.params_ratio, r.ms_per_update, r.time_ratio)
                                   for r in new_rows],
                   f"MTSAC update, T={T} ({sizes} config sizes), batch {batch_size_per_task}/task, {torch_device}; "
                   "parameters: actor + twin critics")
        emit_json(emit, new_rows)
        rows += new_rows
        del agents
    return rows
