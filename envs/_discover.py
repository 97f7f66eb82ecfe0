"""Plugin discovery shared by the per-task kernel registries: one file per task, no registry to edit."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import TypeVar

K = TypeVar("K", bound=type)


def discover_kernels(package: str, path: Iterable[str], base: K) -> dict[str, K]:
    """``{cls.task: cls}`` for every subclass of ``base`` with a ``task`` name defined in a module of ``package``.

    Raises:
        RuntimeError: two classes name the same task.
    """
    found: dict[str, K] = {}
    for module_info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, base) and getattr(value, "task", "") and \
                    value.__module__ == module.__name__:
                if value.task in found:
                    raise RuntimeError(f"two kernels for {value.task}: {found[value.task].__name__} and "
                                       f"{value.__name__}")
                found[value.task] = value
    return found
