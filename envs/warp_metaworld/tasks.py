"""The Warp backend's kernels: v3 task name -> its :class:`~envs.metaworld_tasks.warp_kernel.WarpTaskKernel`
(the task logic lives in :mod:`envs.metaworld_tasks`, beside the fast backend's kernels)."""

from __future__ import annotations

from envs.metaworld_tasks import KERNELS as TASK_KERNELS
from envs.metaworld_tasks.warp_kernel import WarpTaskKernel

KERNELS: dict[str, type[WarpTaskKernel]] = {task: kernels.warp for task, kernels in TASK_KERNELS.items()}
