"""Meta-World v3 on MuJoCo Warp as a :class:`~envs.base.MultiTaskVectorEnv`: ``T`` tasks x ``E`` worlds per task,
everything on the simulator's device.

Built from a reset-state export of the reference environment (:mod:`envs.warp_metaworld.reference`): one
:class:`~envs.warp_metaworld.sim.WarpTaskSim` per task (``E`` worlds of its model) and one Warp task kernel per task
(``envs/metaworld_tasks/``). Goals are drawn exactly as the reference backend draws them (the same per-sub-env
generators for the same seed), so the same seed gives the same goal sequence. A reset restores the exported state
and returns the reference's own reset observation (metaworld assembles it before some resets' last writes reach the
kinematics). A step returns device tensors with no host copy: the observation is assembled and clipped in torch,
the reward and success come from the kernels.

Tasks without a Warp kernel cannot run here; :func:`warp_tasks` lists those that can, and building an env with
others is an error naming them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from envs._checks import check_goal_indices, check_identity, check_mask
from envs.base import EnvInfo, MultiTaskVectorEnv, StepResult
from envs.warp_metaworld.reference import STATE_FIELDS
from envs.warp_metaworld.sim import WarpTaskSim

NUM_GOALS = 50
OBS_DIM, ACTION_DIM, CURRENT_DIM = 39, 4, 18


def load_reset_states(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a reference export; ``ValueError`` naming the problem if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no reset-state export at {path} (make one with "
                         f"`python -m envs.warp_metaworld.reference --out {path}` in the reference environment)")
    try:
        with np.load(path) as z:
            arrays = {key: z[key] for key in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
        raise ValueError(f"{path} is not a reset-state export: {err}") from err
    return meta, arrays


def warp_tasks() -> list[str]:
    """The v3 task names that have a Warp kernel."""
    from envs.warp_metaworld.tasks import KERNELS

    return sorted(KERNELS)


class WarpMetaWorldVectorEnv(MultiTaskVectorEnv):
    """Meta-World tasks on MuJoCo Warp.

    Args:
        reset_states: the reference export (``.npz``) for the benchmark and seed.
        envs_per_task: ``E`` worlds per task.
        seed: the run seed; must be the export's (it drew the goals), and seeds the goal choices.
        device: torch device of the simulation and of every returned tensor.
        tasks: a subset of the export's tasks (default: all of them).
        max_episode_steps: the time limit (default: the export's).
        nconmax, njmax: contact / constraint capacity per world.
    """

    def __init__(self, reset_states: str | Path, *, envs_per_task: int = 1, seed: int = 0,
                 device: torch.device | str = "cpu", tasks: Sequence[str] | None = None,
                 max_episode_steps: int | None = None, nconmax: int = 64, njmax: int = 256) -> None:
        from envs.metaworld_env import sub_env_seeds
        from envs.warp_metaworld.tasks import KERNELS

        meta, arrays = load_reset_states(reset_states)
        if meta["seed"] != seed:
            raise ValueError(f"{reset_states} holds the goals of seed {meta['seed']}, not of seed {seed}")
        by_name = {task["name"]: task for task in meta["tasks"]}
        names = list(tasks) if tasks else list(by_name)
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise ValueError(f"tasks not in {reset_states}: {', '.join(unknown)}")
        missing = [name for name in names if name not in KERNELS]
        if missing:
            raise ValueError(f"no Warp kernel for {', '.join(missing)}; Warp tasks: {', '.join(sorted(KERNELS))}")
        self.device = torch.device(device)
        T, E = len(names), envs_per_task
        self.sims: list[WarpTaskSim] = []
        self.kernels = []
        self._low, self._high, self._reset_obs = [], [], []
        to = dict(dtype=torch.float32, device=self.device)
        for name in names:
            task = by_name[name]
            per_goal_model = {k.split(".", 1)[1]: v for k, v in arrays.items()
                              if k.startswith(f"{name}/model.")}
            static = {k.split("static.", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{name}/static.")}
            states = {field: arrays[f"{name}/state.{field}"] for field in STATE_FIELDS}
            sim = WarpTaskSim(task["xml"], frame_skip=task["frame_skip"], action_scale=task["action_scale"],
                              mocap_box=arrays[f"{name}/mocap_box"], static=static, per_goal_model=per_goal_model,
                              states=states, worlds=E, device=self.device, nconmax=nconmax, njmax=njmax)
            attributes = {k.split("attr.", 1)[1]: torch.as_tensor(v, **to) for k, v in arrays.items()
                          if k.startswith(f"{name}/attr.")}
            self.sims.append(sim)
            self.kernels.append(KERNELS[name](sim, attributes))
            self._reset_obs.append(torch.as_tensor(arrays[f"{name}/reset_obs"], **to))
            self._low.append(torch.as_tensor(arrays[f"{name}/obs_low"], **to))
            self._high.append(torch.as_tensor(arrays[f"{name}/obs_high"], **to))
        self._goal_visible = [not by_name[name]["partially_observable"] for name in names]
        self._max_steps = int(max_episode_steps or meta["max_episode_steps"])
        if meta["reward_function_version"] != "v2":
            raise ValueError(f"{reset_states} was exported with reward_function_version "
                             f"{meta['reward_function_version']}; the Warp kernels implement v2")
        self._hand = [sim.mjm.body("hand").id for sim in self.sims]
        self._claws = [(sim.mjm.body("rightclaw").id, sim.mjm.body("leftclaw").id) for sim in self.sims]
        self._goal_rngs = [np.random.Generator(np.random.PCG64(sub_env_seeds(seed, t, e)[1]))
                           for t in range(T) for e in range(E)]
        self._shape = (T, E)
        self._prev = torch.zeros(T, E, CURRENT_DIM, **to)
        self._obs = torch.zeros(T, E, OBS_DIM, **to)
        self._steps = torch.zeros(T, E, dtype=torch.long, device=self.device)
        self._host_steps = np.zeros((T, E), dtype=np.int64)  # for the ended check without a device sync
        self._ended = np.ones((T, E), dtype=bool)
        self.goal_indices = np.full((T, E), -1)  # the goal each world was last reset to
        self._digest = f"{meta['benchmark']}:{meta['seed']}:{','.join(names)}"
        import mujoco

        self.info = EnvInfo(
            benchmark=meta["benchmark"], task_names=names, envs_per_task=E, obs_dim=OBS_DIM, action_dim=ACTION_DIM,
            max_episode_steps=self._max_steps, num_goals=NUM_GOALS, backend="metaworld-warp",
            extra={"reward_function_version": meta["reward_function_version"], "reset_states": str(reset_states),
                   "reference_mujoco": meta["mujoco"], "mujoco": mujoco.__version__},
        )

    # ------------------------------------------------------------------ observation pieces
    def _current(self, t: int) -> Tensor:
        """``(E, 18)``: hand, gripper opening, objects (zero padded) of task ``t``'s worlds."""
        sim, kernel = self.sims[t], self.kernels[t]
        right, left = self._claws[t]
        gripper = (torch.linalg.vector_norm(sim.xpos[:, right] - sim.xpos[:, left], dim=-1) / 0.1).clamp(0.0, 1.0)
        objects = kernel.objects()
        pad = CURRENT_DIM - 4 - objects.shape[1]
        return torch.cat([sim.xpos[:, self._hand[t]], gripper[:, None], objects,
                          objects.new_zeros(objects.shape[0], pad)], dim=1)

    def _goal(self, t: int) -> Tensor:
        goal = self.kernels[t].goal()
        return goal if self._goal_visible[t] else torch.zeros_like(goal)

    # ------------------------------------------------------------------ the interface
    def reset(self, mask: Tensor | None = None, goal_indices: Tensor | None = None) -> Tensor:
        """Reset all worlds (``mask=None``) or the masked ones, to ``goal_indices`` ``(T, E)`` or to goals drawn from
        each sub-env's generator (the reference backend's sequence for the same seed)."""
        T, E = self._shape
        flat_mask = np.ones(T * E, dtype=bool) if mask is None else \
            check_mask(mask, self._shape).reshape(-1).cpu().numpy()
        if goal_indices is not None:
            chosen = check_goal_indices(goal_indices, self._shape, NUM_GOALS).reshape(-1).cpu().numpy()
        else:
            chosen = np.full(T * E, -1)
            for i in np.flatnonzero(flat_mask):
                chosen[i] = int(self._goal_rngs[i].integers(NUM_GOALS))
        for t in range(T):
            rows = np.flatnonzero(flat_mask[t * E:(t + 1) * E])
            if rows.size == 0:
                continue
            worlds = torch.as_tensor(rows, device=self.device)
            goals = torch.as_tensor(chosen[t * E + rows], device=self.device)
            self.sims[t].reset(worlds, goals)
            self.kernels[t].on_reset(worlds, goals)
            # the reference's own reset observation: metaworld builds it before some resets' last state writes
            # reach the kinematics (window-open/close move the window after it), and its first step stacks it
            obs = self._reset_obs[t][goals]
            self._prev[t, worlds] = obs[:, :CURRENT_DIM]
            self._obs[t, worlds] = obs
            self._steps[t, worlds] = 0
        self.goal_indices.reshape(-1)[flat_mask] = chosen[flat_mask]
        self._host_steps.reshape(-1)[flat_mask] = 0
        self._ended.reshape(-1)[flat_mask] = False
        return self._obs.clone()

    def step(self, actions: Tensor) -> StepResult:
        """Step every world with ``actions`` ``(T, E, 4)`` (clipped to ``[-1, 1]``); no host synchronisation."""
        expected = (*self._shape, ACTION_DIM)
        if tuple(actions.shape) != expected:
            raise ValueError(f"actions must have shape {expected}, got {tuple(actions.shape)}")
        if self._ended.any():
            t, e = map(int, np.argwhere(self._ended)[0])
            raise RuntimeError(f"step() on task {self.info.task_names[t]} copy {e} whose episode ended: reset it "
                               "first (there is no autoreset)")
        actions = actions.to(self.device, torch.float32).clamp(-1.0, 1.0)
        rewards, successes, observations = [], [], []
        for t, (sim, kernel) in enumerate(zip(self.sims, self.kernels, strict=True)):
            sim.step(actions[t])
            current = self._current(t)
            obs = torch.cat([current, self._prev[t], self._goal(t)], dim=1)
            obs = torch.maximum(torch.minimum(obs, self._high[t]), self._low[t])
            self._prev[t] = current
            reward, success = kernel.reward(obs, actions[t])
            observations.append(obs)
            rewards.append(reward)
            successes.append(success)
        self._obs = torch.stack(observations)
        self._steps += 1
        self._host_steps += 1
        truncated = self._steps >= self._max_steps
        self._ended = self._host_steps >= self._max_steps
        return StepResult(obs=self._obs.clone(), reward=torch.stack(rewards).float(),
                          terminated=torch.zeros_like(truncated), truncated=truncated,
                          success=torch.stack(successes).bool())

    def _identity(self) -> dict[str, Any]:
        return {"backend": "metaworld-warp", "task_names": self.info.task_names, "envs_per_task": self._shape[1],
                "goals": self._digest}

    def get_state(self) -> dict[str, Any]:
        """The goal generators' states (take it at an episode boundary; every world must be reset after
        :meth:`set_state`)."""
        return {**self._identity(), "goal_rngs": [rng.bit_generator.state for rng in self._goal_rngs]}

    def set_state(self, state: dict[str, Any]) -> None:
        check_identity(self._identity(), state)
        for rng, saved in zip(self._goal_rngs, state["goal_rngs"], strict=True):
            rng.bit_generator.state = saved
        self._ended[:] = True
