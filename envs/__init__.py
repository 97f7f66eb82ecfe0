"""How experience is produced: multi-task vector envs shaped ``(T, E, ...)`` (tasks x copies) on the learner's device.

* :func:`make_env` builds the env an :class:`EnvConfig` describes: Meta-World (``MT10``, ``MT50``, ``MT1``,
  ``custom``; :class:`~envs.metaworld_env.MetaWorldVectorEnv`, or with ``backend="fast"``
  :class:`~envs.fast_metaworld.FastMetaWorldVectorEnv`) or the synthetic point-mass benchmark
  (:class:`~envs.synthetic.SyntheticMultiTaskEnv`).
* :class:`MultiTaskVectorEnv`, :class:`StepResult` and :class:`EnvInfo` are the contract every backend fulfils
  (``envs/base.py``).

Importing this package imports neither metaworld (MuJoCo) nor torch (``import mtrl.config`` reads
:class:`EnvConfig` without them): the contract types load on first use, building an env loads its backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envs.config import EnvConfig

if TYPE_CHECKING:
    import torch

    from envs.base import EnvInfo, MultiTaskVectorEnv, StepResult

__all__ = ["EnvConfig", "EnvInfo", "MultiTaskVectorEnv", "StepResult", "list_tasks", "make_env"]
_CONTRACT = ("EnvInfo", "MultiTaskVectorEnv", "StepResult")  # defined in envs/base.py (torch)


def __getattr__(name: str) -> Any:
    """``envs.EnvInfo``, ``envs.MultiTaskVectorEnv``, ``envs.StepResult``: imported from :mod:`envs.base` on first
    use (PEP 562)."""
    if name in _CONTRACT:
        import envs.base

        return getattr(envs.base, name)
    raise AttributeError(f"module 'envs' has no attribute {name!r}")


def make_env(cfg: EnvConfig, *, seed: int, device: torch.device | str = "cpu",
             for_eval: bool = False) -> MultiTaskVectorEnv:
    """Build the multi-task vector env ``cfg`` describes (after ``cfg.validate()``).

    Args:
        cfg: the environment config.
        seed: the run seed: it draws the fixed goals of every task and seeds every sub-env. Training and
            evaluation envs built from the same seed share the same goals.
        device: where observations, rewards and flags are returned.
        for_eval: build ``cfg.eval_envs_per_task`` copies per task (the evaluation protocol's env) instead of
            ``cfg.envs_per_task``.

    Returns:
        A :class:`MultiTaskVectorEnv`; close it (or use it as a context manager) to free worker processes.

    Raises:
        ValueError: the config is invalid (one-line message naming the field) or ``seed < 0``.
    """
    cfg.validate()
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    envs_per_task = cfg.eval_envs_per_task if for_eval else cfg.envs_per_task
    if cfg.benchmark == "synthetic":
        from envs.synthetic import SyntheticMultiTaskEnv

        return SyntheticMultiTaskEnv(
            cfg.synthetic_num_tasks, envs_per_task, seed=seed, device=device,
            episode_steps=cfg.synthetic_episode_steps, goal_radius=cfg.synthetic_goal_radius,
            step_size=cfg.synthetic_step_size, success_radius=cfg.synthetic_success_radius,
            start_radius=cfg.synthetic_start_radius, reward_scale=cfg.synthetic_reward_scale,
        )
    if cfg.backend == "warp":
        from envs.warp_metaworld.env import WarpMetaWorldVectorEnv

        tasks = list(cfg.tasks) if cfg.benchmark in ("MT1", "custom") else None
        return WarpMetaWorldVectorEnv(cfg.warp_reset_states, envs_per_task=envs_per_task, seed=seed, device=device,
                                      tasks=tasks, max_episode_steps=cfg.max_episode_steps)
    if cfg.backend == "fast":
        from envs.fast_metaworld import FastMetaWorldVectorEnv as backend
    else:
        from envs.metaworld_env import MetaWorldVectorEnv as backend

    return backend(
        cfg.benchmark, list(cfg.tasks), envs_per_task=envs_per_task, seed=seed,
        vector_strategy=cfg.vector_strategy, reward_function_version=cfg.reward_function_version,
        max_episode_steps=cfg.max_episode_steps, device=device,
    )


def list_tasks(benchmark: str) -> list[str]:
    """The task names of a Meta-World benchmark, in the order of the ``T`` axis: ``MT10`` or ``MT50``; ``custom``
    and ``MT1`` give every valid v3 task name (what their ``tasks`` may hold)."""
    from metaworld import env_dict

    if benchmark == "MT10":
        return list(env_dict.MT10_V3)
    if benchmark == "MT50":
        return list(env_dict.MT50_V3)
    if benchmark in ("custom", "MT1"):
        return list(env_dict.ALL_V3_ENVIRONMENTS)
    raise ValueError(f"list_tasks: unknown Meta-World benchmark {benchmark!r}; valid: MT10, MT50, MT1, custom")
