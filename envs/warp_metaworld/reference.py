"""The reference side of the MuJoCo Warp backend: what only the real ``metaworld`` package can say, exported to a file.

The Warp backend runs in its own environment (MuJoCo Warp needs a newer MuJoCo than the one metaworld pins), so it
never imports metaworld's env classes. Everything it needs from the benchmark is computed here, in the reference
environment, by the real metaworld envs, and written to one ``.npz`` file (:func:`export_reset_states`):

* per task: the XML file, ``frame_skip``, ``action_scale``, the mocap box, the observation bounds, and the model
  fields that metaworld's constructor changes after compiling the XML (its mocap weld parameters);
* per task and goal (the 50 fixed goals drawn from the seed, as :class:`~envs.metaworld_env.MetaWorldVectorEnv`
  draws them): the settled simulator state right after ``reset()`` (so the Warp backend restores it instead of
  re-running the ~250 settling substeps), the model fields that ``reset_model`` moves (goal sites, fixed objects),
  the reset observation, and every per-episode attribute the rewards read (``obj_init_pos``, ``_target_pos``, ...);
* optionally, reference traces: the observations, rewards and success flags of given action sequences from those
  states, for the parity suite.

Run it as ``python -m envs.warp_metaworld.reference --benchmark MT10 --seed 0 --out states.npz`` with the reference
environment's Python.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

STATE_FIELDS = ("qpos", "qvel", "act", "ctrl", "mocap_pos", "mocap_quat", "qacc_warmstart")
# model fields metaworld may change after compiling the XML (constructor or reset_model)
MODEL_FIELDS = ("body_pos", "body_quat", "site_pos", "geom_pos", "geom_quat", "eq_data")
FORMAT_VERSION = 1


def _episode_attributes(env: Any) -> dict[str, np.ndarray]:
    """The env's small numeric attributes after a reset (per-episode constants of the rewards), as float64 arrays;
    attributes that are live views of the simulator's data get the suffix ``@live``."""
    data_arrays = [getattr(env.data, name) for name in ("xpos", "site_xpos", "geom_xpos", "qpos", "xquat")]
    out: dict[str, np.ndarray] = {}
    for name, value in vars(env).items():
        if isinstance(value, bool | int | float | np.floating | np.integer) and not isinstance(value, np.bool_):
            out[name] = np.asarray(value, dtype=np.float64)
        elif isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and 0 < value.size <= 16:
            live = any(np.shares_memory(value, array) for array in data_arrays)
            out[f"{name}@live" if live else name] = np.asarray(value, dtype=np.float64).copy()
    return out


def _model_fields(model: Any) -> dict[str, np.ndarray]:
    return {name: np.array(getattr(model, name), dtype=np.float64) for name in MODEL_FIELDS}


def export_reset_states(benchmark: str, tasks: Sequence[str], seed: int, out: str | Path,
                        traces: dict[str, dict[int, np.ndarray]] | None = None,
                        reward_function_version: str = "v2", max_episode_steps: int = 500) -> Path:
    """Write the reset states (and optional reference traces) of a benchmark's tasks to ``out``.

    Args:
        benchmark: ``MT10`` | ``MT50`` | ``MT1`` | ``custom`` (``tasks`` for the last two).
        seed: the run seed (it draws the 50 goals per task).
        traces: ``{task: {goal_index: actions (steps, 4) float32}}``: after that goal's reset, step these actions
            and record ``obs (steps + 1, 39)``, ``reward (steps,)``, ``success (steps,)`` and ``qpos``.

    Returns:
        The path written (atomically: a temporary file renamed into place).
    """
    import mujoco

    from envs.metaworld_env import NUM_GOALS, benchmark_goals, make_sub_env

    goals = benchmark_goals(benchmark, tuple(tasks) if benchmark in ("MT1", "custom") else (), seed)
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"format": FORMAT_VERSION, "benchmark": benchmark, "seed": seed,
                            "mujoco": mujoco.__version__, "reward_function_version": reward_function_version,
                            "max_episode_steps": max_episode_steps, "tasks": [], "attributes": {}}
    for t, (name, env_cls, task_goals) in enumerate(goals):
        wrapper = make_sub_env(env_cls, task_goals, env_id=f"{name}#0", flat_index=0, env_seed=seed + t,
                               goal_seed=seed + t, reward_function_version=reward_function_version,
                               max_episode_steps=max_episode_steps)
        env = wrapper.unwrapped
        compiled = mujoco.MjModel.from_xml_path(env.model_name)
        static = {k: v for k, v in _model_fields(env.model).items()
                  if v.shape != np.shape(getattr(compiled, k)) or not np.array_equal(v, getattr(compiled, k))}
        per_goal: dict[str, list[np.ndarray]] = {}
        for g in range(NUM_GOALS):
            obs, _ = wrapper.reset(options={"goal_indices": np.array([g])})
            record = {f"state.{k}": np.array(getattr(env.data, k), dtype=np.float64) for k in STATE_FIELDS}
            record.update({f"model.{k}": v for k, v in _model_fields(env.model).items()})
            record.update({f"attr.{k}": v for k, v in _episode_attributes(env).items()})
            record["reset_obs"] = np.asarray(obs, dtype=np.float64)
            for key, value in record.items():
                per_goal.setdefault(key, []).append(value)
            actions = (traces or {}).get(name, {}).get(g)
            if actions is not None:
                arrays.update({f"{name}/trace{g}/{k}": v for k, v in _trace(wrapper, obs, actions).items()})
        for key, values in per_goal.items():
            stacked = np.stack(values)
            if key.startswith("model.") and np.all(stacked == stacked[0]):
                if key.removeprefix("model.") not in static:
                    continue  # never changed from the compiled XML
                arrays[f"{name}/static.{key.removeprefix('model.')}"] = stacked[0]
            else:
                arrays[f"{name}/{key}"] = stacked
        space = env.sawyer_observation_space
        arrays[f"{name}/obs_low"], arrays[f"{name}/obs_high"] = space.low, space.high
        arrays[f"{name}/mocap_box"] = np.stack([env.mocap_low, env.mocap_high]).astype(np.float64)
        meta["tasks"].append({"name": name, "xml": env.model_name, "frame_skip": int(env.frame_skip),
                              "action_scale": float(env.action_scale),
                              "partially_observable": bool(env._partially_observable)})
        wrapper.close()
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    out = Path(out)
    tmp = out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(out)
    return out


def _trace(wrapper: Any, obs: np.ndarray, actions: np.ndarray) -> dict[str, np.ndarray]:
    """Step ``actions`` from the state just reset; the reference's observations, rewards, successes, qpos."""
    env = wrapper.unwrapped
    observations, rewards, successes, qpos = [np.asarray(obs, dtype=np.float64)], [], [], []
    for action in np.asarray(actions, dtype=np.float32):
        obs, reward, _, truncated, info = wrapper.step(np.clip(action, -1, 1))
        observations.append(obs)
        rewards.append(reward)
        successes.append(bool(info["success"]))
        qpos.append(env.data.qpos.copy())
        if truncated:
            break
    return {"obs": np.array(observations), "reward": np.array(rewards, dtype=np.float64),
            "success": np.array(successes), "qpos": np.array(qpos), "actions": np.asarray(actions, np.float32)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export Meta-World reset states (and traces) for the Warp backend")
    parser.add_argument("--benchmark", default="MT10")
    parser.add_argument("--tasks", nargs="*", default=[])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--traces", default=None, help="a .npz of {task}/{goal} -> actions (steps, 4) to trace")
    args = parser.parse_args(argv)
    traces: dict[str, dict[int, np.ndarray]] = {}
    if args.traces:
        with np.load(args.traces) as z:
            for key in z.files:
                task, goal = key.rsplit("/", 1)
                traces.setdefault(task, {})[int(goal)] = z[key]
    print(export_reset_states(args.benchmark, args.tasks, args.seed, args.out, traces=traces))


if __name__ == "__main__":
    main()
