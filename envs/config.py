"""The environment section of a run config.

A plain dataclass (it is embedded in :class:`mtrl.config.RunConfig` and filled from YAML by OmegaConf): every field
has a default and a one-line meaning. :meth:`EnvConfig.validate` checks the values and raises ``ValueError`` with a
one-line message that names the problem. Importing this module stays cheap: the Meta-World task list is only
loaded when a config names Meta-World tasks.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

BENCHMARKS = ("MT10", "MT50", "MT1", "custom", "synthetic")
VECTOR_STRATEGIES = ("sync", "async")
BACKENDS = ("reference", "fast", "warp")
REWARD_FUNCTION_VERSIONS = ("v1", "v2")


@dataclass
class EnvConfig:
    """Which environments a run trains and evaluates on."""

    benchmark: str = "MT10"  # MT10 | MT50 | MT1 | custom | synthetic
    tasks: list[str] = field(default_factory=list)  # MT1: exactly one task; custom: v3 task names; else ignored
    envs_per_task: int = 1  # training copies of every task (sub-env index = task * envs_per_task + copy)
    vector_strategy: str = "sync"  # Meta-World only: sync (one process) | async (one worker process per sub-env)
    backend: str = "reference"  # Meta-World step: reference (metaworld's code) | fast (parity-tested kernels, sync)
    #   | warp (MuJoCo Warp; runs in .venv-warp, needs warp_reset_states)
    warp_reset_states: str = ""  # warp: the reference export (python -m envs.warp_metaworld.reference --out FILE)
    reward_function_version: str = "v2"  # Meta-World reward: v2 (0..10, current baselines) | v1 (the 2019 scale)
    max_episode_steps: int = 500  # Meta-World episode length (time-limit truncation; the benchmark uses 500)
    eval_envs_per_task: int = 10  # copies per task used by evaluation (50 goals / 10 copies = 5 rounds)
    synthetic_num_tasks: int = 4  # synthetic: number of tasks (goals evenly spaced on a circle)
    synthetic_episode_steps: int = 50  # synthetic: episode length (Meta-World uses max_episode_steps)
    synthetic_goal_radius: float = 0.7  # synthetic: distance of every task's goal from the origin
    synthetic_step_size: float = 0.1  # synthetic: largest displacement per step (Euclidean)
    synthetic_success_radius: float = 0.1  # synthetic: success when this close to the goal
    synthetic_start_radius: float = 0.3  # synthetic: initial positions are drawn in a disk of this radius
    synthetic_reward_scale: float = 10.0  # synthetic: the reward's maximum (10: Meta-World v2's range)

    @property
    def num_tasks(self) -> int:
        """``T``: how many tasks the benchmark has (no metaworld import needed)."""
        if self.benchmark == "synthetic":
            return self.synthetic_num_tasks
        return {"MT10": 10, "MT50": 50}.get(self.benchmark, len(self.tasks))

    def validate(self) -> None:
        """Raise ``ValueError`` with a one-line message naming the first invalid field."""
        if self.benchmark not in BENCHMARKS:
            raise ValueError(
                f"unknown benchmark {self.benchmark!r}{_suggest(self.benchmark, BENCHMARKS)}; "
                f"valid: {', '.join(BENCHMARKS)}"
            )
        for name in ("envs_per_task", "eval_envs_per_task"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.benchmark == "synthetic":
            self._validate_synthetic()
        else:
            self._validate_metaworld()

    def _validate_metaworld(self) -> None:
        if self.vector_strategy not in VECTOR_STRATEGIES:
            raise ValueError(
                f"unknown vector_strategy {self.vector_strategy!r}; valid: {', '.join(VECTOR_STRATEGIES)}"
            )
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}{_suggest(self.backend, BACKENDS)}; "
                             f"valid: {', '.join(BACKENDS)}")
        if self.backend == "warp" and not self.warp_reset_states:
            raise ValueError("backend warp needs env.warp_reset_states: make it in the reference environment with "
                             "`python -m envs.warp_metaworld.reference --benchmark MT10 --seed SEED --out FILE`")
        if self.backend == "fast" and self.vector_strategy != "sync":
            raise ValueError("backend fast steps in-process: it needs vector_strategy sync, "
                             f"got {self.vector_strategy!r}")
        if self.reward_function_version not in REWARD_FUNCTION_VERSIONS:
            raise ValueError(
                f"unknown reward_function_version {self.reward_function_version!r}; "
                f"valid: {', '.join(REWARD_FUNCTION_VERSIONS)}"
            )
        if self.max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {self.max_episode_steps}")
        if self.benchmark == "MT1" and len(self.tasks) != 1:
            raise ValueError(f"benchmark MT1 needs exactly one task in tasks, got {len(self.tasks)}: {self.tasks}")
        if self.benchmark == "custom" and not self.tasks:
            raise ValueError("benchmark custom needs at least one Meta-World v3 task name in tasks")
        if self.benchmark in ("MT1", "custom"):
            valid = metaworld_task_names()
            for task in self.tasks:
                if task not in valid:
                    raise ValueError(f"unknown Meta-World v3 task {task!r}{_suggest(task, valid)}")
            duplicates = sorted({task for task in self.tasks if self.tasks.count(task) > 1})
            if duplicates:
                raise ValueError(f"tasks lists {', '.join(duplicates)} more than once; use envs_per_task for copies")

    def _validate_synthetic(self) -> None:
        if self.synthetic_num_tasks < 1:
            raise ValueError(f"synthetic_num_tasks must be >= 1, got {self.synthetic_num_tasks}")
        if self.synthetic_episode_steps < 1:
            raise ValueError(f"synthetic_episode_steps must be >= 1, got {self.synthetic_episode_steps}")
        if not 0.0 < self.synthetic_goal_radius <= 1.0:
            raise ValueError(f"synthetic_goal_radius must be in (0, 1] (the arena is [-1, 1]^2), "
                             f"got {self.synthetic_goal_radius}")
        for name in ("synthetic_step_size", "synthetic_success_radius", "synthetic_reward_scale"):
            if getattr(self, name) <= 0.0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0.0 <= self.synthetic_start_radius < self.synthetic_goal_radius - self.synthetic_success_radius:
            raise ValueError(
                f"synthetic_start_radius must be >= 0 and keep starts out of the goals' success regions "
                f"(< goal_radius - success_radius = "
                f"{self.synthetic_goal_radius - self.synthetic_success_radius:g}), got {self.synthetic_start_radius}"
            )


def metaworld_task_names() -> list[str]:
    """Every Meta-World v3 task name (the MT50 tasks), in MT50 order. Imports metaworld."""
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS

    return list(ALL_V3_ENVIRONMENTS)


def _suggest(name: str, valid: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest valid name (case-insensitive), or the empty string."""
    by_lower = {v.lower(): v for v in valid}
    matches = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[matches[0]]!r}?)" if matches else ""
