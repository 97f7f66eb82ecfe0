"""Metrics: device-side accumulation, written to TensorBoard and a JSONL mirror.

Training metrics are accumulated as device tensors (no host sync per update) and brought to the host once per
log interval. Per-task tensors ``(T,)`` become one scalar per task (``success/<task>``) plus their mean.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from mtrl.errors import RunDirError
from mtrl.runs.checkpoint import atomic_write_text
from mtrl.runs.layout import METRICS_FILE, TB_DIR, WANDB_FILE


class MetricAccumulator:
    """Running sums of device tensors, averaged at flush time."""

    def __init__(self) -> None:
        self.sums: dict[str, Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: dict[str, Tensor]) -> None:
        for key, value in metrics.items():
            value = value.detach().float()
            if key in self.sums:
                self.sums[key] = self.sums[key] + value
                self.counts[key] += 1
            else:
                self.sums[key] = value.clone()
                self.counts[key] = 1

    def __bool__(self) -> bool:
        return bool(self.sums)

    def means(self) -> dict[str, Tensor]:
        """Averages on the host (one transfer per key group), then reset."""
        out = {k: (v / self.counts[k]).cpu() for k, v in self.sums.items()}
        self.sums.clear()
        self.counts.clear()
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"sums": {k: v.cpu() for k, v in self.sums.items()}, "counts": dict(self.counts)}

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        self.sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.counts = dict(state["counts"])


def flatten_metrics(values: dict[str, Tensor], task_names: list[str]) -> dict[str, float]:
    """Tensors to named floats: a ``(T,)`` tensor under key ``k`` gives ``k/<task>`` for every task and ``k``
    (the mean over tasks); scalars stay as they are."""
    flat: dict[str, float] = {}
    for key, value in values.items():
        if value.dim() == 1 and value.shape[0] == len(task_names) and len(task_names) > 1:
            flat[key] = float(value.mean())
            for name, v in zip(task_names, value.tolist(), strict=True):
                flat[f"{key}/{name}"] = float(v)
        else:
            flat[key] = float(value.float().mean())
    return flat


def cut_jsonl(path: Path, step: int) -> None:
    """Keep the rows of the JSONL file ``path`` (each with a ``step``) up to ``step``, atomically.

    A partial last line (a process killed mid-write) is dropped with a note on stderr; an unreadable line before
    the last one raises :class:`~mtrl.errors.RunDirError` naming the file and line. A missing file is left missing.
    """
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    kept = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row_step = int(row["step"])
        except (ValueError, KeyError, TypeError) as err:
            if number == len(lines):
                print(f"dropped the partial last line of {path} (a write interrupted by a crash)", file=sys.stderr)
                break
            raise RunDirError(f"{path} line {number} is not a JSON row with a step: {err}") from err
        if row_step <= step:
            kept.append(line)
    atomic_write_text("".join(line + "\n" for line in kept), path)


WANDB_STEP = "env_steps_per_task"  # the x-axis of every W&B chart


class WandbWriter:
    """Mirrors the run's scalars to a Weights & Biases run (imported only when constructed).

    Every row carries ``env_steps_per_task`` and every chart uses it as its x-axis (``define_metric``): W&B's
    own step must increase, while a resumed run logs again the steps after its checkpoint. The W&B run id is kept
    in ``run_dir/wandb.json``; a resumed run continues that W&B run (``resume="allow"``). W&B's files go to
    ``WANDB_DIR`` if set, else into the run directory.

    Args:
        run_dir: the run directory.
        project, mode, entity: ``logger.wandb`` of the config (:class:`mtrl.config.WandbConfig`).
        config: the resolved run config as a plain dict (W&B's run config).
        name: the W&B run name (the run directory's name).
    """

    def __init__(self, run_dir: Path, project: str, mode: str, entity: str | None, config: dict[str, Any],
                 name: str) -> None:
        import os

        import wandb

        id_path = run_dir / WANDB_FILE
        try:
            run_id = json.loads(id_path.read_text())["id"] if id_path.is_file() else None  # None: W&B picks one
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise RunDirError(f"{id_path} does not hold a W&B run id ({err}); delete it to start a new W&B "
                              f"run") from err
        try:
            self.run = wandb.init(project=project, entity=entity, mode=mode, id=run_id, resume="allow", name=name,
                                  config=config, dir=None if os.environ.get("WANDB_DIR") else str(run_dir))
        except Exception as err:  # wandb raises many types (no network, no API key, bad entity)
            raise RunDirError(f"logger.wandb: W&B could not start a run ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''}); set logger.wandb.mode=offline to "
                              f"log without a network, or logger.wandb.project=null to turn W&B off") from err
        self.run.define_metric(WANDB_STEP)
        self.run.define_metric("*", step_metric=WANDB_STEP)
        atomic_write_text(json.dumps({"id": self.run.id, "project": project, "entity": entity}) + "\n", id_path)

    def log(self, step: int, scalars: dict[str, float]) -> None:
        self.run.log({**scalars, WANDB_STEP: step})

    def close(self) -> None:
        self.run.finish()


class RunLogger:
    """Writes scalars to TensorBoard (``run_dir/tb``), to ``run_dir/metrics.jsonl`` and, if given, to W&B.

    Args:
        run_dir: the run directory.
        resume_step: when resuming, rows of ``metrics.jsonl`` after this step are dropped so the file matches an
            uninterrupted run.
        wandb: a :class:`WandbWriter` to mirror every row to (None: no W&B).
    """

    def __init__(self, run_dir: Path, resume_step: int | None = None, wandb: WandbWriter | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.jsonl_path = run_dir / METRICS_FILE
        if resume_step is not None:
            cut_jsonl(self.jsonl_path, resume_step)
        self.writer = SummaryWriter(log_dir=str(run_dir / TB_DIR), purge_step=resume_step)
        self._jsonl = self.jsonl_path.open("a")
        self.wandb = wandb

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, step)
        self._jsonl.write(json.dumps({"step": step, **scalars}) + "\n")
        self._jsonl.flush()
        if self.wandb is not None:
            self.wandb.log(step, scalars)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
        self._jsonl.close()
        if self.wandb is not None:
            self.wandb.close()
