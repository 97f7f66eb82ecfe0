"""Argument checks shared by the env backends (one-line ``ValueError`` messages)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def check_mask(mask: Tensor, shape: tuple[int, int]) -> Tensor:
    """``mask`` must be a ``(T, E)`` bool tensor."""
    if tuple(mask.shape) != shape or mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor of shape {shape}, got {mask.dtype} {tuple(mask.shape)}")
    return mask


def check_goal_indices(goal_indices: Tensor, shape: tuple[int, int], num_goals: int) -> Tensor:
    """``goal_indices`` must be ``(T, E)`` integers in ``[0, num_goals)``; returned as long."""
    if tuple(goal_indices.shape) != shape:
        raise ValueError(f"goal_indices must have shape {shape}, got {tuple(goal_indices.shape)}")
    if goal_indices.is_floating_point() or goal_indices.dtype == torch.bool:
        raise ValueError(f"goal_indices must be an integer tensor, got {goal_indices.dtype}")
    goal_indices = goal_indices.long()
    if bool(((goal_indices < 0) | (goal_indices >= num_goals)).any()):
        raise ValueError(f"goal_indices must be in [0, {num_goals})")
    return goal_indices


def check_identity(mine: dict[str, Any], state: Any) -> None:
    """``ValueError`` naming the first fact in which ``state`` was taken from a different env than ``mine``."""
    if not isinstance(state, dict):
        raise ValueError(f"env state must be a dict, got {type(state).__name__}")
    for key, value in mine.items():
        if key not in state:
            raise ValueError(f"env state lacks {key!r}: it was not produced by this kind of env")
        if state[key] != value:
            raise ValueError(f"env state belongs to a different env: {key} is {state[key]!r}, this env has {value!r}")
