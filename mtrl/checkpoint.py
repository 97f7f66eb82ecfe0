"""Atomic checkpoints: write to a temporary file, fsync, rename; keep the last N.

A reader never sees a half-written checkpoint: either the old file set or the new one exists.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from mtrl.errors import CheckpointError

FORMAT_VERSION = 1
_NAME = re.compile(r"^ckpt_(\d{10})\.pt$")


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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def load_checkpoint(path: Path, map_location: torch.device | str = "cpu") -> dict[str, Any]:
    """Load a checkpoint; a missing, truncated or foreign file raises :class:`CheckpointError`."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:
        raise CheckpointError(f"corrupt checkpoint {path}: {type(err).__name__}: {str(err).splitlines()[0]}") from err
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} is not an mtrl checkpoint (format version {FORMAT_VERSION} expected)")
    return state


def rng_state() -> dict[str, Any]:
    """Every global RNG the training loop draws from."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
