"""What a run records about itself: ``env.json``, the environment it trains on (:func:`write_env_record`), and
``run.json``, where and how fast it ran (machine, cores, device, precision, torch, mtrl's git commit, wall-clock,
env steps/s, status), rewritten by training at every log and when it ends (:class:`RunRecord`).

A resumed run keeps one entry per sitting in ``sessions`` (the machine may change between sittings); the top-level
figures are those of the whole run (the wall-clock of all sittings, env steps in all tasks per second of it).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from envs.base import EnvInfo
from mtrl.runs.checkpoint import atomic_write_text
from mtrl.runs.layout import ENV_FILE, RUN_FILE

MTRL_SOURCE = Path(__file__).resolve().parents[1]
STATUSES = ("running", "finished", "failed", "interrupted")


def git_commit(path: Path = MTRL_SOURCE) -> str | None:
    """The commit of the git checkout holding ``path`` (mtrl's source), ``+dirty`` if it has uncommitted changes;
    None outside a checkout or without git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=path,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine_record(device: torch.device) -> dict[str, Any]:
    """The machine and software of this process: host, CPU cores (all and usable), torch, device name."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    record: dict[str, Any] = {
        "hostname": socket.gethostname(), "platform": platform.platform(), "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(), "cpu_usable": usable,
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "device": str(device),
    }
    if device.type == "cuda":
        record["gpu"] = torch.cuda.get_device_name(device)
    return record


def env_record(info: EnvInfo, **fields: Any) -> dict[str, Any]:
    """``env.json``'s content: benchmark, task names, copies per task, dimensions, episode length, goals, backend,
    then ``fields`` (a field of the same name replaces the info's in place) and the backend's extras."""
    return {
        "benchmark": info.benchmark, "task_names": info.task_names, "envs_per_task": info.envs_per_task,
        "obs_dim": info.obs_dim, "action_dim": info.action_dim, "max_episode_steps": info.max_episode_steps,
        "num_goals": info.num_goals, "backend": info.backend, **fields, **info.extra,
    }


def write_env_record(run_dir: Path, info: EnvInfo, **fields: Any) -> None:
    """Write :func:`env_record` to ``run_dir/env.json`` atomically."""
    atomic_write_text(json.dumps(env_record(info, **fields), indent=2) + "\n", run_dir / ENV_FILE)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunRecord:
    """Keeps ``run_dir/run.json`` up to date.

    Args:
        run_dir: the run directory.
        precision: the agent's ``precision`` (``agent.sac.precision`` or ``agent.ppo.precision``).
        device: the training device.
        num_tasks: tasks stepped in parallel (env steps/s counts all of them).
        resume: continue the record of an earlier sitting (a missing or unreadable file starts a new one).
    """

    def __init__(self, run_dir: Path, precision: str, device: torch.device, num_tasks: int,
                 resume: bool = False) -> None:
        self.path = run_dir / RUN_FILE
        self.num_tasks = num_tasks
        record: dict[str, Any] = {}
        if resume and self.path.exists():
            try:
                record = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError):
                record = {}  # the run's own files stay as they are; run.json is rebuilt
        machine = machine_record(device)
        session = {"started": _now(), **machine}
        self.record: dict[str, Any] = {
            **record,
            **{k: machine[k] for k in ("hostname", "cpu_count", "cpu_usable", "torch", "device")},
            "gpu": machine.get("gpu"),
            "precision": precision,
            "mtrl_commit": git_commit(),
            "sessions": [*record.get("sessions", []), session],
        }
        self.record.setdefault("started", session["started"])

    def update(self, status: str, step: int, wall_clock_s: float) -> None:
        """Record ``status`` at ``step`` env steps per task after ``wall_clock_s`` seconds of training (all
        sittings), and write the file."""
        if status not in STATUSES:
            raise ValueError(f"run status must be one of {', '.join(STATUSES)}, got {status!r}")
        self.record.update({
            "status": status, "updated": _now(), "env_steps_per_task": step, "wall_clock_s": round(wall_clock_s, 3),
            "env_steps_per_s": round(step * self.num_tasks / wall_clock_s, 2) if wall_clock_s > 0 else None,
        })
        self.record["sessions"][-1].update(status=status, ended=self.record["updated"], step=step)
        atomic_write_text(json.dumps(self.record, indent=2) + "\n", self.path)
