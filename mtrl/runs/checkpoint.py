"""Atomic checkpoints: write to a temporary file, fsync, rename; keep the last N. Safe loading.

A reader never sees a half-written checkpoint: either the old file set or the new one exists. Files follow the
process umask, like files written by ``open``.

Checkpoints load with ``torch.load(weights_only=True)``: they hold tensors and plain containers only (RNG states
are stored as tensors and ints), plus the few types in :data:`SAFE_GLOBALS`, so loading a file never runs code
from it. Checkpoints that need a full unpickle (format 1, written before this) load only when the user says the
file is trusted: ``--trust-checkpoint`` on the command line or ``MTRL_TRUST_CHECKPOINT=1`` in the environment.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from mtrl.errors import CheckpointError

FORMAT_VERSION = 2  # 2: loads with weights_only=True; 1: numpy RNG state as a pickled ndarray (trusted files only)
_READABLE_VERSIONS = (1, FORMAT_VERSION)
_NAME = re.compile(r"^ckpt_(\d{10})\.pt$")
TRUST_ENV_VAR = "MTRL_TRUST_CHECKPOINT"
TRUST_HINT = f"if you trust the file, rerun with --trust-checkpoint (or {TRUST_ENV_VAR}=1)"
# Types besides tensors and plain containers that a checkpoint may hold, each one data and never code. Empty:
# every state in a checkpoint (networks, optimizers, replay buffer, torch/numpy/python RNGs, the envs' generator
# states, which numpy gives as dicts of ints) is already tensors and plain containers. A new state type that is
# neither gets added here, by name; tests/test_run_faults.py checks that a run's checkpoints need nothing else.
SAFE_GLOBALS: list[Any] = []


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"ckpt_{step:010d}.pt"


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoints in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def atomic_write(path: Path, write: Callable[[IO[Any]], None], mode: str = "wb") -> None:
    """Call ``write(f)`` on a temporary file in ``path``'s directory, fsync, then ``os.replace`` it onto ``path``:
    readers see the old file or the new one, never half of one; on any error the temporary file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # os.open's mode passes through the umask (tempfile.mkstemp would force 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: Path) -> None:
    """Write a text file atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda f: f.write(text), mode="w")


def save_checkpoint(state: dict[str, Any], directory: Path, step: int, keep: int) -> Path:
    """Save ``state`` as ``directory/ckpt_<step>.pt`` atomically and delete all but the ``keep`` newest."""
    path = checkpoint_path(directory, step)
    atomic_torch_save({"format_version": FORMAT_VERSION, **state}, path)
    for old in list_checkpoints(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def stale_temp_files(directory: Path) -> list[Path]:
    """Temporary files :func:`atomic_write` left in ``directory`` when its process was killed mid-write."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(".*.tmp") if p.is_file())


def trust_from_env() -> bool:
    """Whether ``MTRL_TRUST_CHECKPOINT`` allows full (code-running) unpickling of checkpoints."""
    return os.environ.get(TRUST_ENV_VAR, "").strip().lower() in ("1", "true", "yes")


def load_checkpoint(path: Path, map_location: torch.device | str = "cpu",
                    trusted: bool | None = None) -> dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    Args:
        path: a ``ckpt_*.pt`` file.
        map_location: where tensors go.
        trusted: allow a full unpickle (it can run code stored in the file) when the safe load refuses the file;
            ``None``: the ``MTRL_TRUST_CHECKPOINT`` environment variable decides.

    Raises:
        CheckpointError: a missing, truncated or foreign file, or one holding Python objects (unless trusted).
    """
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not (trust_from_env() if trusted is None else trusted):
            reason = str(err).split("Please file an issue")[0].split("WeightsUnpickler error:")[-1].strip()
            raise CheckpointError(f"{path} holds Python objects that a safe load refuses "
                                  f"({reason.splitlines()[0][:200] if reason else 'unsafe pickle'}); "
                                  f"{TRUST_HINT}") from err
        state = _load_trusted(path, map_location)
    except Exception as err:
        raise CheckpointError(f"corrupt checkpoint {path}: {type(err).__name__}: {str(err).splitlines()[0]}") from err
    if not isinstance(state, dict) or state.get("format_version") not in _READABLE_VERSIONS:
        raise CheckpointError(f"{path} is not an mtrl checkpoint (format version {FORMAT_VERSION} expected)")
    return state


def _load_trusted(path: Path, map_location: torch.device | str) -> Any:
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:
        raise CheckpointError(f"corrupt checkpoint {path}: {type(err).__name__}: {str(err).splitlines()[0]}") from err


# config keys that say which run a checkpoint belongs to (settings a resume may change are not among them)
RUN_IDENTITY_KEYS = ("env.benchmark", "env.tasks", "env.synthetic_num_tasks", "agent.name", "seed", "run_dir")


def _dotted(cfg: Any, key: str) -> Any:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def check_same_run(run_cfg: Any, checkpoint_cfg: Any, path: Path) -> None:
    """Raise :class:`CheckpointError` if the checkpoint at ``path`` (recorded config ``checkpoint_cfg``) belongs to
    another run than the run directory's config ``run_cfg`` (another benchmark, seed, agent or run directory)."""
    for key in RUN_IDENTITY_KEYS:
        ours, theirs = _dotted(run_cfg, key), _dotted(checkpoint_cfg, key)
        if ours != theirs:
            raise CheckpointError(f"{path} belongs to another run ({key} is {theirs!r} in the checkpoint, {ours!r} "
                                  f"in this run directory)")


def rng_state() -> dict[str, Any]:
    """Every global RNG the training loop draws from, as tensors and plain containers (safe to load)."""
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    numpy_state = {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                   "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}
    state = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state`'s output (or a format-1 checkpoint's, whose numpy state is numpy's own tuple)."""
    torch.set_rng_state(state["torch"].cpu())
    numpy_state = state["numpy"]
    if isinstance(numpy_state, dict):
        numpy_state = (numpy_state["kind"], numpy_state["keys"].cpu().numpy().astype(np.uint32), numpy_state["pos"],
                       numpy_state["has_gauss"], numpy_state["cached_gaussian"])
    np.random.set_state(numpy_state)
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
