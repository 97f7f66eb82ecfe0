"""The device a run trains on and the seeds of its global random number generators."""

from __future__ import annotations

import random

import numpy as np
import torch

from mtrl.errors import RunDirError


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA if available, else the CPU), ``cpu``, ``cuda`` or ``cuda:N`` as a device; raises
    :class:`~mtrl.errors.RunDirError` for CUDA on a machine without it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RunDirError(f"device {name!r} requested but CUDA is not available")
    return device


def seed_everything(seed: int, deterministic: bool) -> None:
    """Seed python's, numpy's and torch's global generators; ``deterministic``: deterministic torch kernels (warn
    where none exists)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
