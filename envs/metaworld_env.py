"""Meta-World v3 (the real ``metaworld`` package) as a :class:`~envs.base.MultiTaskVectorEnv`.

``T`` tasks x ``E`` copies run in one gymnasium ``SyncVectorEnv`` or ``AsyncVectorEnv`` (shared memory), sub-env
``t * E + e`` being copy ``e`` of task ``t``. Every sub-env is the task's class with the chosen
``reward_function_version``, a ``TimeLimit`` of ``max_episode_steps``, and :class:`FixedGoalWrapper`, which sets one
of the task's 50 fixed goals before each reset (the index the caller asks for, or one drawn from the sub-env's own
seeded generator). Autoreset is disabled: the caller resets ended sub-envs with a mask. The observation is the raw
39-number Meta-World observation (no one-hot: the task is the ``T`` axis).

Goals (the 50 fixed settings per task, drawn when the benchmark is built):

* ``MT10`` / ``MT50``: ``metaworld.MT10(seed)`` / ``metaworld.MT50(seed)``, exactly as ``gym.make_vec``.
* ``MT1``: ``metaworld.MT1(task, seed)``.
* ``custom``: task ``i`` of the list gets ``metaworld.MT1(task_i, seed + i)``'s goals, the convention of metaworld's
  own ``Meta-World/custom-mt-envs`` (building ``MT50`` to filter it would cost ~36 s per env).

Seeding: sub-env ``(t, e)`` gets its own seeds, derived from ``(seed, t, e)`` by ``numpy.random.SeedSequence``: one
for the simulator's generators (``env.seed``), one for its goal choice. Copies of a task therefore draw different
goal sequences, and the same run seed always gives the same sub-env streams.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import pickle
import types
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from envs._checks import check_goal_indices, check_identity, check_mask
from envs.base import EnvInfo, MultiTaskVectorEnv, StepResult

METAWORLD_BENCHMARKS = ("MT10", "MT50", "MT1", "custom")
NUM_GOALS = 50  # metaworld draws 50 goal settings per task
GOAL_INDICES = "goal_indices"  # the reset option that carries the (T * E,) goal indices to the sub-envs


@functools.lru_cache(maxsize=4)
def benchmark_goals(benchmark: str, tasks: tuple[str, ...], seed: int) -> tuple[tuple[str, type, tuple], ...]:
    """The tasks of a benchmark in order, each as ``(name, env_class, goals)`` with its 50 ``metaworld.Task`` goals.

    Cached per process: building MT10's goals takes ~7 s, MT50's ~36 s, and a run builds its training and its
    evaluation env from the same goals.
    """
    import metaworld

    if benchmark in ("MT10", "MT50"):
        built = [getattr(metaworld, benchmark)(seed=seed)]
    elif benchmark == "MT1":
        if len(tasks) != 1:
            raise ValueError(f"benchmark MT1 needs exactly one task, got {list(tasks)}")
        built = [metaworld.MT1(tasks[0], seed=seed)]
    elif benchmark == "custom":
        if not tasks:
            raise ValueError("benchmark custom needs at least one task")
        built = [metaworld.MT1(name, seed=seed + i) for i, name in enumerate(tasks)]
    else:
        raise ValueError(f"unknown Meta-World benchmark {benchmark!r}; valid: {', '.join(METAWORLD_BENCHMARKS)}")
    result = []
    for bench in built:
        for name, env_cls in bench.train_classes.items():
            goals = tuple(task for task in bench.train_tasks if task.env_name == name)
            if len(goals) != NUM_GOALS:
                raise RuntimeError(f"metaworld built {len(goals)} goals for {name}, expected {NUM_GOALS}")
            result.append((name, env_cls, goals))
    return tuple(result)


def goals_digest(goals: tuple[tuple[str, type, tuple], ...]) -> str:
    """A short hash of every task's name and goal vectors: two envs with the same digest have the same goals."""
    h = hashlib.sha256()
    for name, _, tasks in goals:
        h.update(name.encode())
        for task in tasks:
            h.update(np.ascontiguousarray(pickle.loads(task.data)["rand_vec"], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def sub_env_seeds(seed: int, task_index: int, copy_index: int) -> tuple[int, int]:
    """``(simulator_seed, goal_choice_seed)`` of sub-env ``(task_index, copy_index)``: independent streams."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    words = np.random.SeedSequence(seed, spawn_key=(task_index, copy_index)).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


class FixedGoalWrapper(gym.Wrapper):
    """Sets one of the task's fixed goals (``unwrapped.set_task``) before every reset.

    ``reset(options={"goal_indices": a})`` takes goal ``a[flat_index]`` (``a`` holds one index per sub-env of the
    vector env); without that option the goal is drawn from this wrapper's own generator, seeded at construction.
    The ``rng_checkpoint`` attribute reads or restores every random state of the sub-env (metaworld's
    ``get_env_rng_checkpoint`` plus the goal-choice generator).

    Args:
        env: a metaworld env (possibly wrapped, e.g. in ``TimeLimit``).
        goals: the task's fixed goals, ``metaworld.Task`` objects.
        flat_index: this sub-env's index in the vector env.
        seed: seeds the goal-choice generator.
        env_id: a name checked when a checkpoint is restored.
    """

    def __init__(self, env: gym.Env, goals: Sequence[Any], *, flat_index: int, seed: int, env_id: str) -> None:
        super().__init__(env)
        self.goals = list(goals)
        self.flat_index = flat_index
        self.env_id = env_id
        self.goal_rng = np.random.Generator(np.random.PCG64(seed))
        self.goal_index = -1

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        indices = None if options is None else options.get(GOAL_INDICES)
        if indices is None:
            index = int(self.goal_rng.integers(len(self.goals)))
        else:
            index = int(indices[self.flat_index])
        self.env.unwrapped.set_task(self.goals[index])  # type: ignore[attr-defined]
        self.goal_index = index
        obs, info = self.env.reset(seed=seed)
        return obs, {**info, "goal_index": index}

    @property
    def rng_checkpoint(self) -> dict[str, Any]:
        """Every random state of this sub-env (plain picklable data)."""
        from metaworld.wrappers import get_env_rng_checkpoint

        return {"env_id": self.env_id, "goal_index": self.goal_index,
                "goal_rng": self.goal_rng.bit_generator.state,
                "env_rng": get_env_rng_checkpoint(self.env.unwrapped)}  # type: ignore[arg-type]

    @rng_checkpoint.setter
    def rng_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        from metaworld.wrappers import set_env_rng

        if checkpoint.get("env_id") != self.env_id:
            raise ValueError(f"checkpoint of sub-env {checkpoint.get('env_id')!r} given to sub-env {self.env_id!r}")
        self.goal_rng.bit_generator.state = checkpoint["goal_rng"]
        self.goal_index = checkpoint["goal_index"]
        set_env_rng(self.env.unwrapped, checkpoint["env_rng"])  # type: ignore[arg-type]


def touching_object_fast(self: Any, object_geom_id: int) -> bool:
    """metaworld's ``SawyerXYZEnv.touching_object`` without its Python loops over every contact of the scene.

    The same contacts are selected (a pad's geom and the object's geom, either order) with array comparisons,
    and their normal forces are summed in the same order with Python's ``sum``, so the result is identical. It is
    called by the reward of every grasping task at every step (in MT10: pick-place and push).
    """
    data = self.data
    if data.ncon == 0:
        return False
    contact = data.contact
    geom1, geom2 = contact.geom1, contact.geom2
    on_object = (geom1 == object_geom_id) | (geom2 == object_geom_id)
    forces = data.efc_force
    totals = []
    for pad in ("leftpad_geom", "rightpad_geom"):
        pad_id = data.geom(pad).id
        rows = np.flatnonzero(on_object & ((geom1 == pad_id) | (geom2 == pad_id)))
        totals.append(sum(float(forces[contact.efc_address[i]]) for i in rows))
    return 0 < totals[0] and 0 < totals[1]


def make_sub_env(env_cls: type, goals: Sequence[Any], *, env_id: str, flat_index: int, env_seed: int,
                 goal_seed: int, reward_function_version: str, max_episode_steps: int,
                 fast_python: bool = True) -> gym.Env:
    """One sub-env: ``FixedGoalWrapper(TimeLimit(env_cls(reward_function_version)))``, seeded.

    ``fast_python`` replaces metaworld's per-contact Python loop in the grasp test (:func:`touching_object_fast`,
    identical results); False keeps metaworld's code untouched (the parity tests compare the two).
    """
    env = env_cls(reward_function_version=reward_function_version)
    if fast_python:
        env.touching_object = types.MethodType(touching_object_fast, env)
    # metaworld raises in step() once its own 500-step limit is reached; let the time limit decide instead
    env.max_path_length = max_episode_steps
    env.seed(env_seed)
    env = gym.wrappers.TimeLimit(env, max_episode_steps=max_episode_steps)
    return FixedGoalWrapper(env, goals, flat_index=flat_index, seed=goal_seed, env_id=env_id)


class MetaWorldVectorEnv(MultiTaskVectorEnv):
    """Meta-World tasks, ``envs_per_task`` copies each, as ``(T, E, ...)`` torch tensors on ``device``.

    Args:
        benchmark: ``MT10`` | ``MT50`` | ``MT1`` | ``custom``.
        tasks: ``MT1``: one task name; ``custom``: v3 task names, in the order of the ``T`` axis; else ignored.
        envs_per_task: ``E``.
        seed: draws the benchmark's 50 goals per task and seeds every sub-env.
        vector_strategy: ``sync`` (one process) or ``async`` (one worker process per sub-env, shared memory).
        reward_function_version: ``v2`` or ``v1``.
        max_episode_steps: the time limit (truncation).
        device: where observations and results are put.
        fast_python: use mtrl's faster equivalents of metaworld's hot Python code (identical outputs; see
            :func:`make_sub_env`). False runs metaworld's code unchanged.

    Attributes:
        goals: per task ``(name, env_class, goals)``, the 50 fixed ``metaworld.Task`` goals of each task.
        vector_env: the underlying gymnasium vector env (flat, ``T * E`` sub-envs).
    """

    def __init__(self, benchmark: str = "MT10", tasks: Sequence[str] = (), *, envs_per_task: int = 1, seed: int = 0,
                 vector_strategy: str = "sync", reward_function_version: str = "v2", max_episode_steps: int = 500,
                 device: torch.device | str = "cpu", fast_python: bool = True) -> None:
        if vector_strategy not in ("sync", "async"):
            raise ValueError(f"unknown vector_strategy {vector_strategy!r}; valid: sync, async")
        if reward_function_version not in ("v1", "v2"):
            raise ValueError(f"unknown reward_function_version {reward_function_version!r}; valid: v1, v2")
        if envs_per_task < 1 or max_episode_steps < 1:
            raise ValueError("envs_per_task and max_episode_steps must be >= 1")
        self.device = torch.device(device)
        self.goals = benchmark_goals(benchmark, tuple(tasks) if benchmark in ("MT1", "custom") else (), seed)
        self._digest = goals_digest(self.goals)
        names = [name for name, _, _ in self.goals]
        T, E = len(names), envs_per_task
        env_fns = []
        for t, (name, env_cls, goals) in enumerate(self.goals):
            for e in range(E):
                env_seed, goal_seed = sub_env_seeds(seed, t, e)
                env_fns.append(functools.partial(
                    make_sub_env, env_cls, goals, env_id=f"{name}#{e}", flat_index=t * E + e, env_seed=env_seed,
                    goal_seed=goal_seed, reward_function_version=reward_function_version,
                    max_episode_steps=max_episode_steps, fast_python=fast_python))
        disabled = gym.vector.AutoresetMode.DISABLED
        self.vector_env: gym.vector.VectorEnv
        if vector_strategy == "sync":
            self.vector_env = gym.vector.SyncVectorEnv(env_fns, copy=False, autoreset_mode=disabled)
        else:
            self.vector_env = gym.vector.AsyncVectorEnv(env_fns, shared_memory=True, copy=False,
                                                        autoreset_mode=disabled)
        self._closed = False
        obs_dim = int(np.prod(self.vector_env.single_observation_space.shape))
        action_dim = int(np.prod(self.vector_env.single_action_space.shape))
        goal_source = {"MT10": f"metaworld.MT10(seed={seed})", "MT50": f"metaworld.MT50(seed={seed})",
                       "MT1": f"metaworld.MT1(task, seed={seed})",
                       "custom": f"metaworld.MT1(tasks[i], seed={seed} + i)"}[benchmark]
        self.info = EnvInfo(
            benchmark=benchmark, task_names=names, envs_per_task=E, obs_dim=obs_dim, action_dim=action_dim,
            max_episode_steps=max_episode_steps, num_goals=NUM_GOALS, backend="metaworld",
            extra={"reward_function_version": reward_function_version, "vector_strategy": vector_strategy,
                   "metaworld_version": importlib.metadata.version("metaworld"), "goals": goal_source},
        )
        self._shape = (T, E)
        self._ended = np.ones(T * E, dtype=bool)  # never reset yet: must be reset before stepping
        self._obs = torch.zeros(T, E, obs_dim, device=self.device)
        # the last observations, rewards (float64) and success flags, flat (T * E, ...): for parity checks and experts
        self.last_raw_obs = np.zeros((T * E, obs_dim))
        self.last_raw_reward = np.zeros(T * E)
        self.last_raw_success = np.zeros(T * E, dtype=bool)

    # ------------------------------------------------------------------ conversions
    def _obs_tensor(self, obs: np.ndarray) -> Tensor:
        """``(T * E, obs_dim)`` float64 -> ``(T, E, obs_dim)`` float32 on the device (cast on the CPU first: half
        the bytes to move)."""
        obs_t = torch.from_numpy(np.asarray(obs, dtype=np.float32)).view(*self._shape, -1)
        return obs_t if self.device.type == "cpu" else obs_t.to(self.device)

    def reset(self, mask: Tensor | None = None, goal_indices: Tensor | None = None) -> Tensor:
        """Reset all sub-envs (``mask=None``) or the masked ones, to ``goal_indices`` or to random goals.

        Args:
            mask: ``(T, E)`` bool or None.
            goal_indices: ``(T, E)`` long in ``[0, 50)`` or None (each sub-env draws from its own generator).

        Returns:
            ``(T, E, 39)`` float32: every sub-env's current observation (fresh where reset).
        """
        options: dict[str, Any] = {}
        if goal_indices is not None:
            options[GOAL_INDICES] = check_goal_indices(goal_indices, self._shape, NUM_GOALS).reshape(-1).cpu().numpy()
        if mask is None:
            flat_mask = np.ones(self._ended.shape, dtype=bool)
        else:
            flat_mask = check_mask(mask, self._shape).reshape(-1).cpu().numpy()
            if not flat_mask.any():
                return self._obs.clone()
            if not flat_mask.all():
                options["reset_mask"] = flat_mask
        obs, _ = self.vector_env.reset(options=options or None)
        self._ended[flat_mask] = False
        self.last_raw_obs[flat_mask] = np.asarray(obs, dtype=np.float64)[flat_mask]
        fresh = self._obs_tensor(obs)
        if flat_mask.all():
            self._obs = fresh
        else:  # the vector env's rows of the other sub-envs may be stale (a faster backend steps them itself)
            rows = torch.from_numpy(flat_mask).to(self.device).view(self._shape)
            self._obs[rows] = fresh[rows]
        self._after_reset(flat_mask, np.asarray(obs))
        return self._obs.clone()

    def _after_reset(self, flat_mask: np.ndarray, obs: np.ndarray) -> None:
        """Hook for subclasses: sub-envs ``flat_mask`` ``(T * E,)`` were just reset; ``obs`` ``(T * E, 39)`` holds
        their fresh observations (other rows are unspecified)."""

    def _flat_actions(self, actions: Tensor) -> np.ndarray:
        """Check ``actions`` ``(T, E, 4)`` and that no ended sub-env is stepped; ``(T * E, 4)`` float32 numpy,
        clipped to ``[-1, 1]``."""
        expected = (*self._shape, self.info.action_dim)
        if tuple(actions.shape) != expected:
            raise ValueError(f"actions must have shape {expected}, got {tuple(actions.shape)}")
        if self._ended.any():
            first = int(np.flatnonzero(self._ended)[0])
            raise RuntimeError(f"step() on sub-env {first} (task {self.info.task_names[first // self.envs_per_task]})"
                               " whose episode ended: reset it first (there is no autoreset)")
        flat_actions = actions.detach().to("cpu", torch.float32).reshape(-1, self.info.action_dim).numpy()
        return np.clip(flat_actions, -1.0, 1.0)

    def _step_result(self, obs: np.ndarray, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                     success: np.ndarray) -> StepResult:
        """Flat ``(T * E, ...)`` numpy step outputs -> a :class:`StepResult` of ``(T, E, ...)`` tensors."""
        self._ended = terminated | truncated
        self.last_raw_obs = np.array(obs, dtype=np.float64)
        self.last_raw_reward = np.array(reward, dtype=np.float64)
        self.last_raw_success = np.array(success, dtype=bool)
        flags = torch.from_numpy(np.stack([terminated, truncated, success]).astype(bool))  # one copy for three
        reward_t = torch.from_numpy(np.asarray(reward, dtype=np.float32))
        if self.device.type != "cpu":
            flags, reward_t = flags.to(self.device), reward_t.to(self.device)
        flags = flags.view(3, *self._shape)
        self._obs = self._obs_tensor(obs)
        return StepResult(obs=self._obs.clone(), reward=reward_t.view(self._shape), terminated=flags[0],
                          truncated=flags[1], success=flags[2])

    def step(self, actions: Tensor) -> StepResult:
        """Step every sub-env with ``actions`` ``(T, E, 4)`` (clipped to ``[-1, 1]``).

        Raises:
            RuntimeError: a sub-env whose episode ended (or that was never reset) is stepped.
        """
        obs, reward, terminated, truncated, infos = self.vector_env.step(self._flat_actions(actions))
        return self._step_result(obs, reward, terminated, truncated, np.asarray(infos["success"]))

    def step_async(self, actions: Tensor) -> None:
        """Send ``actions`` to the sub-envs and return at once with ``vector_strategy="async"`` (the worker
        processes step while the caller computes); a plain step with ``sync``."""
        if isinstance(self.vector_env, gym.vector.AsyncVectorEnv):
            self.vector_env.step_async(self._flat_actions(actions))
            self._pending_async = True
        else:
            super().step_async(actions)

    def step_wait(self) -> StepResult:
        if getattr(self, "_pending_async", False):
            self._pending_async = False
            obs, reward, terminated, truncated, infos = self.vector_env.step_wait()
            return self._step_result(obs, reward, terminated, truncated, np.asarray(infos["success"]))
        return super().step_wait()

    # ------------------------------------------------------------------ checkpoints
    def _identity(self) -> dict[str, Any]:
        return {"backend": "metaworld", "benchmark": self.info.benchmark, "task_names": self.info.task_names,
                "envs_per_task": self.envs_per_task, "goals_digest": self._digest}

    def get_state(self) -> dict[str, Any]:
        """Every sub-env's random states (simulator generators and goal choice), plain picklable data.

        Physics states are not included: after :meth:`set_state` every sub-env must be reset, so take the state at
        an episode boundary (before the reset); the next reset then reproduces the same episodes.
        """
        return {**self._identity(), "sub_envs": list(self.vector_env.get_attr("rng_checkpoint"))}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s output; ``ValueError`` if it belongs to a different env (other tasks, copies,
        benchmark or goals). Every sub-env must then be reset before it is stepped."""
        check_identity(self._identity(), state)
        sub_envs = state.get("sub_envs")
        if not isinstance(sub_envs, list) or len(sub_envs) != len(self._ended):
            raise ValueError(f"env state holds {len(sub_envs) if isinstance(sub_envs, list) else 'no'} sub-env "
                             f"states, this env has {len(self._ended)} sub-envs")
        self.vector_env.set_attr("rng_checkpoint", sub_envs)
        self._ended[:] = True

    def close(self) -> None:
        """Close the vector env (and its worker processes); safe to call twice."""
        if not self._closed:
            self._closed = True
            self.vector_env.close()

