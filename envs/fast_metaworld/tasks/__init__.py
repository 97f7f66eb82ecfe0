"""The registry of fast task kernels: v3 task name -> :class:`~envs.fast_metaworld.kernel.TaskKernel` subclass.

One file per task in this folder; every :class:`TaskKernel` subclass defined in one of them (with its ``task`` name
set) is registered, so adding a task is adding its file. Two kernels for one task are an error.
"""

from __future__ import annotations

import importlib
import pkgutil

from envs.fast_metaworld.kernel import TaskKernel


def _discover() -> dict[str, type[TaskKernel]]:
    found: dict[str, type[TaskKernel]] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, TaskKernel) and value.task and \
                    value.__module__ == module.__name__:
                if value.task in found:
                    raise RuntimeError(f"two fast kernels for {value.task}: {found[value.task].__name__} and "
                                       f"{value.__name__}")
                found[value.task] = value
    return found


KERNELS: dict[str, type[TaskKernel]] = _discover()
