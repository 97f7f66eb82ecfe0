"""Cost of every network architecture inside a real MTSAC update, as ratios to the shared MLP.

For each number of tasks ``T`` (10: MT10 sizes, 50: MT50 sizes) the benchmark builds MTSAC with each architecture's
config (``configs/arch_<name>_mt<T>.yaml``; the baseline is ``configs/mt<T>_mtsac.yaml``: the shared 3x400 MLP
with per-task heads) on random replay data (Meta-World sizes: 39 observation, 4 action numbers; batch 128 per
task) and times full updates (critics + actor + temperatures + targets, plain ``mean`` combiner). It reports the
parameter count (actor + twin critics) and the median update time, each divided by the MLP's measured in the same
run, as a table and one JSON line per row.

    python scripts/bench_nets.py --tasks 10 50
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from mtrl.agents.sac import MTSAC, SACConfig
from mtrl.bench.timing import time_updates
from mtrl.config import load_config
from mtrl.replay import TaskReplayBuffer
from mtrl.surgery import make_surgery

OBS_DIM, ACTION_DIM = 39, 4  # Meta-World
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ARCHS = ("mlp", "embedding", "film", "moe", "topk_moe", "moore", "soft_modularization", "care")


@dataclass
class Row:
    num_tasks: int
    arch: str
    params: int
    params_ratio: float
    ms_per_update: float
    time_ratio: float
    device: str

    def to_json(self) -> str:
        return json.dumps(vars(self))


def sac_config(arch: str, num_tasks: int) -> SACConfig:
    """The architecture's MT10 (``num_tasks`` <= 10) or MT50 config."""
    bench = "mt10" if num_tasks <= 10 else "mt50"
    path = CONFIGS / (f"{bench}_mtsac.yaml" if arch == "mlp" else f"arch_{arch}_{bench}.yaml")
    return load_config(path).agent.sac


def num_params(agent: MTSAC) -> int:
    return sum(p.numel() for module in (agent.actor, agent.critic) for p in module.parameters())


def run(task_counts: Sequence[int] = (10, 50), archs: Sequence[str] = ARCHS, iters: int = 3, rounds: int = 3,
        batch_size_per_task: int = 128, device: str = "cpu") -> list[Row]:
    """Time every architecture; prints a table and one JSON line per row. Architectures are timed in ``rounds``
    interleaved rounds of ``iters`` updates after one warm-up update; the median round is reported."""
    torch_device = torch.device(device)
    archs = ["mlp", *[a for a in archs if a != "mlp"]]
    rows: list[Row] = []
    for T in task_counts:
        torch.manual_seed(0)
        n = 4 * batch_size_per_task
        buffer = TaskReplayBuffer(T, n, OBS_DIM, ACTION_DIM, torch_device)
        buffer.add(torch.randn(T, n, OBS_DIM), torch.rand(T, n, ACTION_DIM) * 2 - 1, torch.rand(T, n),
                   torch.randn(T, n, OBS_DIM), torch.zeros(T, n))
        agents = {
            arch: MTSAC(OBS_DIM, ACTION_DIM, T, sac_config(arch, T), make_surgery("mean", T),
                        make_surgery("mean", T), device=torch_device)
            for arch in archs
        }
        for agent in agents.values():
            time_updates(agent, buffer, batch_size_per_task, 1, torch_device)
        times: dict[str, list[float]] = {arch: [] for arch in archs}
        for _ in range(rounds):
            for arch, agent in agents.items():
                times[arch].append(time_updates(agent, buffer, batch_size_per_task, iters, torch_device))
        base_time, base_params = statistics.median(times["mlp"]), num_params(agents["mlp"])
        sizes = "MT10" if T <= 10 else "MT50"
        print(f"\nMTSAC update, T={T} ({sizes} config sizes), batch {batch_size_per_task}/task, {torch_device}; "
              f"parameters: actor + twin critics")
        print(f"{'architecture':<22} {'params':>10} {'x mlp':>7} {'ms/update':>10} {'x mlp':>7}")
        new_rows = []
        for arch, agent in agents.items():
            t, p = statistics.median(times[arch]), num_params(agent)
            row = Row(T, arch, p, p / base_params, 1000 * t, t / base_time, str(torch_device))
            new_rows.append(row)
            print(f"{arch:<22} {p:>10,} {row.params_ratio:7.2f} {row.ms_per_update:10.1f} {row.time_ratio:7.2f}")
        for row in new_rows:
            print(row.to_json())
        rows += new_rows
        del agents
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10, 50], help="numbers of tasks (10: MT10, 50: MT50)")
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS, help="architectures to time")
    parser.add_argument("--iters", type=int, default=3, help="updates per timing round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (the median is reported)")
    parser.add_argument("--batch", type=int, default=128, help="transitions per task per update")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    args = parser.parse_args(argv)
    run(args.tasks, args.archs, args.iters, args.rounds, args.batch, args.device)


if __name__ == "__main__":
    main()
