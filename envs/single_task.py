"""One task of a benchmark as a plain single-task ``gymnasium.Env``, the form single-task libraries (Stable-Baselines3)
accept unchanged.

:func:`make_single_task_env` builds task ``t`` of the benchmark an :class:`~envs.config.EnvConfig` describes, with
what the multi-task env of the same config and seed gives that task:

* Meta-World: the same v3 task class, the same 50 fixed goals (drawn from the same seed by
  :func:`~envs.metaworld_env.benchmark_goals`), ``reward_function_version`` and ``max_episode_steps`` (time-limit
  truncation), and, for copy 0, the simulator and goal-choice seeds of sub-env ``(t, 0)`` of the vector env
  (:func:`~envs.metaworld_env.make_sub_env`, the very function the vector env builds its sub-envs with).
* synthetic: :class:`~envs.synthetic.PointMassTaskEnv`, the same dynamics function, goals and fixed initial
  positions as :class:`~envs.synthetic.SyntheticMultiTaskEnv`.

Observations are float32 (as mtrl's agents see them), actions in ``[-1, 1]``; ``info["success"]`` is the task's
success flag at that step (the evaluation protocol counts an episode as a success if it was set at any step);
``reset(options={"goal_index": i})`` starts the episode on fixed goal ``i``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from envs.config import EnvConfig


def make_single_task_env(cfg: EnvConfig, task: str | int, seed: int, copy_index: int = 0) -> gym.Env:
    """Task ``task`` of ``cfg``'s benchmark as a single-task env.

    Args:
        cfg: the environment config (validated here).
        task: a task name (``reach-v3``, ``point-mass-goal-1``) or its index on the multi-task env's ``T`` axis.
        seed: the run seed: it draws the fixed goals, as for :func:`envs.make_env`.
        copy_index: which copy of the task (distinct simulator and goal-choice streams; Meta-World only).

    Returns:
        A ``gymnasium.Env`` with float32 ``Box`` observations, ``Box(-1, 1)`` actions and ``info["success"]``.

    Raises:
        ValueError: an invalid config, an unknown task or ``seed < 0``.
    """
    cfg.validate()
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if cfg.benchmark == "synthetic":
        from envs.synthetic import PointMassTaskEnv, task_names

        index = _task_index(task, task_names(cfg.synthetic_num_tasks))
        return PointMassTaskEnv(index, cfg.synthetic_num_tasks, seed=seed, **synthetic_params(cfg))
    from envs.metaworld_env import benchmark_goals

    goals = benchmark_goals(cfg.benchmark, tuple(cfg.tasks) if cfg.benchmark in ("MT1", "custom") else (), seed)
    index = _task_index(task, [name for name, _, _ in goals])
    return MetaWorldTaskEnv(goals[index], index, seed=seed, copy_index=copy_index,
                            reward_function_version=cfg.reward_function_version,
                            max_episode_steps=cfg.max_episode_steps)


def synthetic_params(cfg: EnvConfig) -> dict[str, Any]:
    """The :class:`~envs.synthetic.PointMassParams` fields an env config sets (all but ``num_tasks``)."""
    return {"episode_steps": cfg.synthetic_episode_steps, "goal_radius": cfg.synthetic_goal_radius,
            "step_size": cfg.synthetic_step_size, "success_radius": cfg.synthetic_success_radius,
            "start_radius": cfg.synthetic_start_radius, "reward_scale": cfg.synthetic_reward_scale}


def _task_index(task: str | int, names: list[str]) -> int:
    if isinstance(task, (int, np.integer)) and not isinstance(task, bool):
        if not 0 <= task < len(names):
            raise ValueError(f"task index {task} out of range: the benchmark has {len(names)} tasks")
        return int(task)
    if task not in names:
        raise ValueError(f"task {task!r} is not in the benchmark; its tasks: {', '.join(names)}")
    return names.index(task)


class MetaWorldTaskEnv(gym.Env[np.ndarray, np.ndarray]):
    """One Meta-World task with its fixed goals, as a ``gymnasium.Env``.

    It owns (rather than wraps) the sub-env the vector env would build, so ``unwrapped`` is this env: Meta-World's
    own ``compute_reward(action, obs)`` would otherwise make Stable-Baselines3's ``check_env`` take it for a
    goal-conditioned env.

    Args:
        task: ``(name, env_class, goals)`` as in :func:`~envs.metaworld_env.benchmark_goals`.
        task_index: the task's index on the multi-task env's ``T`` axis (it derives the seeds).
        seed: the run seed.
        copy_index: the copy ``e``: the streams are those of sub-env ``(task_index, e)``.
        reward_function_version: ``v2`` | ``v1``.
        max_episode_steps: the time limit (episodes end truncated, never terminated).

    ``reset(seed=s)`` restarts the simulator and goal-choice streams as those of a run seeded ``s`` (the goals stay
    the ones drawn at construction); ``reset(options={"goal_index": i})`` takes fixed goal ``i``, otherwise the goal
    is drawn from the goal-choice stream.
    """

    metadata = {"render_modes": []}

    def __init__(self, task: tuple[str, type, tuple], task_index: int, *, seed: int = 0, copy_index: int = 0,
                 reward_function_version: str = "v2", max_episode_steps: int = 500) -> None:
        from envs.metaworld_env import make_sub_env, sub_env_seeds

        self.task_name, env_cls, self.goals = task
        self.task_index, self.copy_index = task_index, copy_index
        env_seed, goal_seed = sub_env_seeds(seed, task_index, copy_index)
        self._env = make_sub_env(env_cls, self.goals, env_id=f"{self.task_name}#{copy_index}", flat_index=0,
                                 env_seed=env_seed, goal_seed=goal_seed,
                                 reward_function_version=reward_function_version,
                                 max_episode_steps=max_episode_steps)
        # the space as it is once a goal is set: Meta-World computes it from the observability the task sets
        self._env.unwrapped.set_task(self.goals[0])  # type: ignore[attr-defined]
        space = self._env.unwrapped.sawyer_observation_space  # type: ignore[attr-defined]
        self.observation_space = gym.spaces.Box(space.low.astype(np.float32), space.high.astype(np.float32),
                                                space.shape, np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, self._env.action_space.shape, np.float32)
        self.max_episode_steps = max_episode_steps

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        from envs.metaworld_env import GOAL_INDICES, NUM_GOALS, sub_env_seeds

        super().reset(seed=seed)
        if seed is not None:
            env_seed, goal_seed = sub_env_seeds(seed, self.task_index, self.copy_index)
            self._env.unwrapped.seed(env_seed)  # type: ignore[attr-defined]
            self._env.goal_rng = np.random.Generator(np.random.PCG64(goal_seed))  # type: ignore[attr-defined]
        inner_options = None
        if options is not None and "goal_index" in options:
            goal_index = int(options["goal_index"])
            if not 0 <= goal_index < NUM_GOALS:
                raise ValueError(f"goal_index must be in [0, {NUM_GOALS}), got {goal_index}")
            inner_options = {GOAL_INDICES: np.array([goal_index])}
        obs, info = self._env.reset(options=inner_options)
        return np.asarray(obs, dtype=np.float32), info

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
        obs, reward, terminated, truncated, info = self._env.step(action)
        info = {**info, "success": bool(info["success"])}
        return np.asarray(obs, dtype=np.float32), float(reward), bool(terminated), bool(truncated), info

    def close(self) -> None:
        self._env.close()
