"""The registry of Warp task kernels: v3 task name -> :class:`~envs.warp_metaworld.kernel.WarpTaskKernel` subclass,
discovered from the files of this folder (one per task or family), like the fast backend's registry."""

from __future__ import annotations

from envs._discover import discover_kernels
from envs.warp_metaworld.kernel import WarpTaskKernel

KERNELS: dict[str, type[WarpTaskKernel]] = discover_kernels(__name__, __path__, WarpTaskKernel)
