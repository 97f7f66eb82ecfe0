"""``mtrl bench surgery``: the cost of every surgery method inside a real MTSAC update.

For each number of tasks ``T`` the benchmark builds the standard MTSAC (3x400 MLPs, per-task heads, batch 128
per task) on random replay data and times full updates (critics + actor + temperatures + targets) with every
method. It reports each method's median update time divided by the plain ``mean`` update measured in the same
run, and the same ratio for torchjd's ``backward`` + aggregator on the same networks (torchjd differentiates
the per-task losses one row at a time, so its cost grows with ``T``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.func import vmap

from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.bench.fixtures import ACTION_DIM, OBS_DIM, random_replay, update_case
from mtrl.bench.harness import Column, emit_json, emit_table, ratios_to, time_interleaved
from mtrl.nets.net_config import NetConfig
from mtrl.surgery import list_methods, make_surgery
from mtrl.task_gradients import SurgeryStep, clip_and_step

COLUMNS = (Column("method", 26, left=True), Column("ms/update", 10, ".1f"), Column("x mean", 8, ".2f"))


class TorchJDUpdate:
    """Drop-in replacement of :class:`~mtrl.task_gradients.SurgeryUpdate` using torchjd: the per-task losses of
    all tasks, ``torchjd.autojac.backward`` for the Jacobian of every parameter, ``jac_to_grad`` to aggregate."""

    def __init__(self, net: Any, aggregator: Any, optimizer: torch.optim.Optimizer, max_grad_norm: float) -> None:
        self.net, self.aggregator, self.optimizer, self.max_grad_norm = net, aggregator, optimizer, max_grad_norm
        self.params = list(net.module.parameters())

    def __call__(self, loss_fn: Callable[..., Any], inputs: Sequence[Any], in_dims: Sequence[int | None] | None = None,
                 with_diagnostics: bool = False,
                 batched: tuple[Callable[..., Any], Sequence[Any]] | None = None) -> tuple[SurgeryStep, Any, Tensor]:
        from torchjd.autojac import backward, jac_to_grad

        self.optimizer.zero_grad(set_to_none=True)
        in_dims = tuple(in_dims) if in_dims is not None else (0,) * len(inputs)
        if batched is not None:  # the losses from the modules' own forward, as torchjd users write it
            losses, aux = batched[0](*batched[1])
        else:
            losses, aux = vmap(loss_fn, in_dims=(None, 0, *in_dims))(self.net.shared, self.net.task, *inputs)
        backward(losses, inputs=self.params)
        jac_to_grad(self.params, self.aggregator)
        norm = clip_and_step(self.optimizer, self.params, self.max_grad_norm)
        return SurgeryStep(losses.detach(), torch.full_like(losses, 1 / losses.shape[0]), {}), aux, norm


@dataclass
class Row:
    num_tasks: int
    method: str
    ms_per_update: float
    ratio_to_mean: float
    device: str


def _agent(num_tasks: int, method: str, device: torch.device, hidden: list[int]) -> MTSAC:
    net = NetConfig(hidden_sizes=list(hidden))
    cfg = SACConfig(actor=net, critic=NetConfig(hidden_sizes=list(hidden)))
    if method.startswith("torchjd-backward:"):
        import torchjd.aggregation as agg

        agent = MTSAC(OBS_DIM, ACTION_DIM, num_tasks, cfg, make_surgery("mean", num_tasks),
                      make_surgery("mean", num_tasks), device=device)
        name = method.split(":", 1)[1]
        agent.actor_update = TorchJDUpdate(agent.actor_fn, getattr(agg, name)(), agent.actor_optimizer,
                                           cfg.max_grad_norm)
        agent.critic_update = TorchJDUpdate(agent.critic_fn, getattr(agg, name)(), agent.critic_optimizer,
                                            cfg.max_grad_norm)
        return agent
    return MTSAC(OBS_DIM, ACTION_DIM, num_tasks, cfg, make_surgery(method, num_tasks),
                 make_surgery(method, num_tasks), device=device)


def run(
    task_counts: Sequence[int] = (10, 50),
    methods: Sequence[str] | None = None,
    torchjd_methods: Sequence[str] = ("UPGrad",),
    iters: int = 5,
    rounds: int = 3,
    batch_size_per_task: int = 128,
    hidden: Sequence[int] = (400, 400, 400),
    device: str = "cpu",
    emit: Callable[[str], None] = print,
) -> list[Row]:
    """Time every method; returns rows and prints a table plus one JSON line per row via ``emit``.

    Each method is timed in ``rounds`` interleaved rounds of ``iters`` updates (after one warm-up round);
    the median round is reported, so slow drifts of the machine hit every method alike.
    """
    torch_device = torch.device(device)
    methods = [m for m in (methods or list_methods()) if m != "mean"]
    names = ["mean", *methods] + [f"torchjd-backward:{m}" for m in torchjd_methods]
    rows: list[Row] = []
    for T in task_counts:
        torch.manual_seed(0)
        buffer = random_replay(T, 4 * batch_size_per_task, torch_device)
        cases = [update_case(name, _agent(T, name, torch_device, list(hidden)), buffer, batch_size_per_task,
                             iters=1 if name.startswith("torchjd") and T >= 50 else None) for name in names]
        timings = time_interleaved(cases, iters, rounds)
        medians = {name: timing.median for name, timing in timings.items()}
        ratios = ratios_to(medians, "mean")
        new_rows = [Row(T, name, 1000 * medians[name], ratios[name], str(torch_device)) for name in names]
        emit_table(emit, COLUMNS, [(r.method, r.ms_per_update, r.ratio_to_mean) for r in new_rows],
                   f"MTSAC update, T={T}, batch {batch_size_per_task}/task, MLP {list(hidden)}, {torch_device}")
        emit_json(emit, new_rows)
        rows += new_rows
    return rows
