"""The environment section of a run config.

A plain dataclass (it is embedded in :class:`mtrl.config.RunConfig` and filled from YAML by OmegaConf): every field
declares its default, meaning and valid values (:func:`envs.fields.param`). :meth:`EnvConfig.validate` checks them
and raises ``ValueError`` with a one-line message that names the field. Importing this module stays cheap: the
Meta-World task list is only loaded when a config names Meta-World tasks.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from envs.fields import FieldError, check_tree, param, suggest

BENCHMARKS = ("MT10", "MT50", "MT1", "custom", "synthetic")
VECTOR_STRATEGIES = ("sync", "async")
BACKENDS = ("reference", "fast", "warp")
REWARD_FUNCTION_VERSIONS = ("v1", "v2")


@dataclass
class EnvConfig:
    """Which environments a run trains and evaluates on."""

    benchmark: str = param("MT10", "MT10 | MT50 | MT1 | custom | synthetic", choices=BENCHMARKS)
    tasks: list[str] = param(factory=list, help="MT1: exactly one task; custom: v3 task names; other benchmarks: "
                             "must be empty (their tasks are fixed)")
    envs_per_task: int = param(1, "training copies of every task (sub-env index = task * envs_per_task + copy)",
                               range="[1, inf)")
    vector_strategy: str = param("sync", "Meta-World only: sync (one process) | async (one worker process per "
                                 "sub-env)", choices=VECTOR_STRATEGIES)
    backend: str = param("reference", "Meta-World step: reference (metaworld's code) | fast (parity-tested "
                         "kernels, sync) | warp (MuJoCo Warp; runs in .venv-warp, needs warp_reset_states)",
                         choices=BACKENDS)
    warp_reset_states: str = param("", "warp: the reference export (python -m envs.warp_metaworld.reference "
                                   "--out FILE)")
    reward_function_version: str = param("v2", "Meta-World reward: v2 (0..10, current baselines) | v1 (the 2019 "
                                         "scale)", choices=REWARD_FUNCTION_VERSIONS)
    max_episode_steps: int = param(500, "Meta-World episode length (time-limit truncation; the benchmark uses 500)",
                                   range="[1, inf)")
    eval_envs_per_task: int = param(10, "copies per task used by evaluation (50 goals / 10 copies = 5 rounds)",
                                    range="[1, inf)")
    synthetic_num_tasks: int = param(4, "synthetic: number of tasks (goals evenly spaced on a circle)",
                                     range="[1, inf)")
    synthetic_episode_steps: int = param(50, "synthetic: episode length (Meta-World uses max_episode_steps)",
                                         range="[1, inf)")
    synthetic_goal_radius: float = param(0.7, "synthetic: distance of every task's goal from the origin (the arena "
                                         "is [-1, 1]^2)", range="(0, 1]")
    synthetic_step_size: float = param(0.1, "synthetic: largest displacement per step (Euclidean)", range="(0, inf)")
    synthetic_success_radius: float = param(0.1, "synthetic: success when this close to the goal", range="(0, inf)")
    synthetic_start_radius: float = param(0.3, "synthetic: initial positions are drawn in a disk of this radius",
                                          range="[0, inf)")
    synthetic_reward_scale: float = param(10.0, "synthetic: the reward's maximum (10: Meta-World v2's range)",
                                          range="(0, inf)")

    @property
    def num_tasks(self) -> int:
        """``T``: how many tasks the benchmark has (no metaworld import needed)."""
        if self.benchmark == "synthetic":
            return self.synthetic_num_tasks
        return {"MT10": 10, "MT50": 50}.get(self.benchmark, len(self.tasks))

    def validate(self) -> None:
        """Raise :class:`~envs.fields.FieldError` (a ``ValueError``) naming the first invalid field."""
        check_tree(self)

    def check(self) -> None:
        """Rules between fields (each field's own range and choices are declared above)."""
        if self.benchmark == "synthetic":
            self._check_synthetic()
        else:
            self._check_metaworld()

    def _check_metaworld(self) -> None:
        if self.backend == "warp":
            self._check_warp()
        if self.backend == "fast" and self.vector_strategy != "sync":
            raise FieldError("vector_strategy", "backend fast steps in-process: it needs vector_strategy sync, "
                             f"got {self.vector_strategy!r}")
        if self.benchmark in ("MT10", "MT50") and self.tasks:
            raise FieldError("tasks", f"benchmark {self.benchmark} has fixed tasks; tasks is for MT1 and custom, "
                             f"got {self.tasks}")
        if self.benchmark == "MT1" and len(self.tasks) != 1:
            raise FieldError("tasks", f"benchmark MT1 needs exactly one task in tasks, got {len(self.tasks)}: "
                             f"{self.tasks}")
        if self.benchmark == "custom" and not self.tasks:
            raise FieldError("tasks", "benchmark custom needs at least one Meta-World v3 task name in tasks")
        if self.benchmark in ("MT1", "custom"):
            valid = metaworld_task_names()
            for task in self.tasks:
                if task not in valid:
                    raise FieldError("tasks", f"unknown Meta-World v3 task {task!r}{suggest(task, valid)}")
            duplicates = sorted({task for task in self.tasks if self.tasks.count(task) > 1})
            if duplicates:
                raise FieldError("tasks", f"tasks lists {', '.join(duplicates)} more than once; use envs_per_task "
                                 "for copies")

    def _check_warp(self) -> None:
        if not self.warp_reset_states:
            raise FieldError("warp_reset_states", "backend warp needs env.warp_reset_states: make it in the "
                             "reference environment with `python -m envs.warp_metaworld.reference --benchmark MT10 "
                             "--seed SEED --out FILE`")
        if not Path(self.warp_reset_states).is_file():
            raise FieldError("warp_reset_states", f"no reference export at {self.warp_reset_states!r}; make it "
                             "with `python -m envs.warp_metaworld.reference --out FILE`")
        missing = [name for name in ("warp", "mujoco_warp") if importlib.util.find_spec(name) is None]
        if missing:
            raise FieldError("backend", f"backend=warp needs {' and '.join(missing)}, which this Python lacks: "
                             "build the Warp environment with `bash scripts/setup_warp_env.sh` and run mtrl with "
                             "`.venv-warp/bin/python -m mtrl.cli`")

    def _check_synthetic(self) -> None:
        if self.tasks:
            raise FieldError("tasks", f"benchmark synthetic has its own tasks (synthetic_num_tasks); tasks must be "
                             f"empty, got {self.tasks}")
        bound = self.synthetic_goal_radius - self.synthetic_success_radius
        if not self.synthetic_start_radius < bound:
            raise FieldError(
                "synthetic_start_radius",
                f"synthetic_start_radius must be < goal_radius - success_radius = {bound:g} (starts out of the "
                f"goals' success regions), got {self.synthetic_start_radius}"
            )


def metaworld_task_names() -> list[str]:
    """Every Meta-World v3 task name (the MT50 tasks), in MT50 order. Imports metaworld."""
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS

    return list(ALL_V3_ENVIRONMENTS)
