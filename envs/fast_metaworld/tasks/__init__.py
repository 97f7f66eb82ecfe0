"""The registry of fast task kernels: v3 task name -> :class:`~envs.fast_metaworld.kernel.TaskKernel` subclass.

One file per task in this folder (or per family of near-identical tasks); every :class:`TaskKernel` subclass with its
``task`` name set is registered, so adding a task is adding its file. Two kernels for one task are an error.
"""

from __future__ import annotations

from envs._discover import discover_kernels
from envs.fast_metaworld.kernel import TaskKernel

KERNELS: dict[str, type[TaskKernel]] = discover_kernels(__name__, __path__, TaskKernel)
