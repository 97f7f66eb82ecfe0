"""A faster CPU backend for Meta-World v3: the same simulator, the same resets, a step without numpy overhead.

:class:`FastMetaWorldVectorEnv` is a :class:`~envs.metaworld_env.MetaWorldVectorEnv` (same sub-envs, goals, seeds,
resets and RNG checkpoints: everything but ``step`` is the reference code) whose ``step`` does what
``SawyerXYZEnv.step`` does, on the very same ``MjModel`` / ``MjData``, without metaworld's per-step Python:

1. the action moves the mocap target (clipped to the mocap box, float32 arithmetic as metaworld) and sets the
   gripper controls; ``mj_step`` x ``frame_skip`` and ``mj_forward`` exactly as metaworld (its
   ``mj_rnePostConstraint`` fills quantities nothing reads, and is skipped);
2. the observation (hand, gripper opening, objects, the previous frame, the goal) is assembled for all sub-envs
   into one array and clipped to each env's observation space in one numpy call;
3. each task's :class:`~envs.metaworld_tasks.fast_kernel.TaskKernel` computes the v2 reward and the success flag in
   scalar Python (``envs/metaworld_tasks/``).

Metaworld's ``_set_pos_site`` calls after the physics are skipped: they write ``data.site_xpos``, which the next
``mj_forward`` overwrites, so they have no effect on a step that does not hit a simulator exception (metaworld v3
never raises one). The info dict's diagnostics other than ``success`` (``grasp_success`` and friends, which scan
contacts) are not computed: the learner never reads them.

Tasks without a kernel, and every task under ``reward_function_version="v1"``, are stepped by the reference code
(the sub-env's own ``step``), so any benchmark runs; ``info.extra["fast_tasks"]`` / ``["reference_tasks"]`` say
which is which. Parity with the reference backend is tested per task (``tests/test_envs_fast.py``) from the same
states and actions: observations agree to 1e-9, rewards to 1e-5 (metaworld computes parts of some rewards in
float32), success flags exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np
import torch
from torch import Tensor

from envs.base import StepResult
from envs.metaworld_env import MetaWorldVectorEnv
from envs.metaworld_tasks import KERNELS as TASK_KERNELS
from envs.metaworld_tasks.fast_kernel import TaskKernel

__all__ = ["KERNELS", "FastMetaWorldVectorEnv", "TaskKernel", "fast_task_names"]

_MOCAP_QUAT = np.array([1.0, 0.0, 1.0, 0.0])
_NO_GOAL = [0.0, 0.0, 0.0]
OBS_DIM = 39
CURRENT_DIM = 18  # hand (3), gripper opening (1), objects (14, zero padded)

KERNELS: dict[str, type[TaskKernel]] = {task: kernels.fast for task, kernels in TASK_KERNELS.items()}
"""v3 task name -> its fast kernel (see :mod:`envs.metaworld_tasks`)."""


def fast_task_names() -> list[str]:
    """The v3 task names that have a fast kernel (the others fall back to the reference step)."""
    return sorted(KERNELS)


class _SubEnv:
    """What the fast step needs of one sub-env: the metaworld env, its ids and views, and its kernel."""

    __slots__ = ("env", "model", "data", "kernel", "mocap_pos", "mocap_quat", "ctrl", "mocap_low", "mocap_high",
                 "hand", "right_claw", "left_claw", "frame_skip", "single_mocap", "hand_mocap")

    def __init__(self, env: Any, kernel: TaskKernel) -> None:
        self.env = env
        self.model, self.data = env.model, env.data
        self.kernel = kernel
        self.mocap_pos = self.data.mocap_pos
        self.hand_mocap = self.mocap_pos[0]
        self.mocap_quat = self.data.mocap_quat
        self.ctrl = self.data.ctrl
        self.mocap_low = [float(v) for v in env.mocap_low]
        self.mocap_high = [float(v) for v in env.mocap_high]
        self.single_mocap = self.mocap_pos.shape[0] == 1
        xpos = self.data.xpos
        self.hand = xpos[self.model.body("hand").id]
        self.right_claw = xpos[self.model.body("rightclaw").id]
        self.left_claw = xpos[self.model.body("leftclaw").id]
        self.frame_skip = int(env.frame_skip)
        if self.model.nu != 2:
            raise ValueError(f"{type(env).__name__}: expected 2 gripper actuators, the model has {self.model.nu}")

    def physics(self, delta: list[float], effort: float) -> None:
        """``set_xyz_action`` + ``do_simulation([effort, -effort], frame_skip)`` + ``mj_forward``.

        gymnasium's ``do_simulation`` also calls ``mj_rnePostConstraint``, which only fills ``cacc`` and
        ``cfrc_int`` / ``cfrc_ext``: no later step, observation or reward reads them, so it is skipped."""
        if self.single_mocap:
            lo, hi = self.mocap_low, self.mocap_high
            x, y, z = self.hand_mocap.tolist()
            self.hand_mocap[:] = (min(max(x + delta[0], lo[0]), hi[0]), min(max(y + delta[1], lo[1]), hi[1]),
                                  min(max(z + delta[2], lo[2]), hi[2]))
        else:  # every mocap body moves by the delta, the hand's is clipped
            pos = self.mocap_pos
            pos += np.asarray(delta)
            np.clip(pos[0], self.mocap_low, self.mocap_high, out=pos[0])
        self.mocap_quat[:] = _MOCAP_QUAT
        ctrl = self.ctrl
        ctrl[0] = effort
        ctrl[1] = -effort
        model, data = self.model, self.data
        mujoco.mj_step(model, data, nstep=self.frame_skip)
        self.env.curr_path_length += 1
        mujoco.mj_forward(model, data)

    def current(self) -> list[float]:
        """``_get_curr_obs_combined_no_goal()``, zero padded to 18 numbers."""
        r, l = self.right_claw, self.left_claw
        dx, dy, dz = r[0] - l[0], r[1] - l[1], r[2] - l[2]
        gripper = min(max(((dx * dx + dy * dy + dz * dz) ** 0.5) / 0.1, 0.0), 1.0)
        objects = self.kernel.objects()
        return [*self.hand.tolist(), gripper, *objects, *([0.0] * (14 - len(objects)))]


class FastMetaWorldVectorEnv(MetaWorldVectorEnv):
    """Meta-World with the fast step for every task that has a kernel (see the module docstring).

    Takes :class:`~envs.metaworld_env.MetaWorldVectorEnv`'s arguments; the vector strategy is always ``sync``
    (the speed comes from stepping in-process without gymnasium's per-env machinery).

    Attributes:
        fast_mask: ``(T * E,)`` bool, the sub-envs stepped by a kernel.
    """

    def __init__(self, benchmark: str = "MT10", tasks: Sequence[str] = (), *, envs_per_task: int = 1, seed: int = 0,
                 vector_strategy: str = "sync", reward_function_version: str = "v2", max_episode_steps: int = 500,
                 device: torch.device | str = "cpu") -> None:
        if vector_strategy != "sync":
            raise ValueError(f"the fast Meta-World backend steps in-process: vector_strategy must be 'sync', "
                             f"got {vector_strategy!r}")
        super().__init__(benchmark, tasks, envs_per_task=envs_per_task, seed=seed, vector_strategy="sync",
                         reward_function_version=reward_function_version, max_episode_steps=max_episode_steps,
                         device=device, fast_python=True)
        self._max_steps = max_episode_steps
        names = self.info.task_names
        E = envs_per_task
        use_kernels = reward_function_version == "v2"
        self._wrappers = list(self.vector_env.envs)  # type: ignore[attr-defined]
        self._subs: list[_SubEnv | None] = []
        for flat, wrapper in enumerate(self._wrappers):
            kernel_cls = KERNELS.get(names[flat // E]) if use_kernels else None
            env = wrapper.unwrapped
            self._subs.append(None if kernel_cls is None else _SubEnv(env, kernel_cls(env)))
        self.fast_mask = np.array([sub is not None for sub in self._subs])
        self._fast = [(i, sub) for i, sub in enumerate(self._subs) if sub is not None]
        self._slow = [i for i, sub in enumerate(self._subs) if sub is None]
        self._fast_rows = np.array([i for i, _ in self._fast], dtype=np.int64)
        fast_tasks = [name for t, name in enumerate(names) if self.fast_mask[t * E]]
        reference_tasks = [name for t, name in enumerate(names) if not self.fast_mask[t * E]]
        if reference_tasks and use_kernels:
            warnings.warn(f"fast Meta-World backend: no kernel for {', '.join(reference_tasks)}; these tasks use the "
                          "reference step", stacklevel=2)
        self.info.backend = "metaworld-fast"
        self.info.extra.update(fast_tasks=fast_tasks, reference_tasks=reference_tasks)
        N = len(self._subs)
        self._scale = np.array([np.float32(w.unwrapped.action_scale) for w in self._wrappers], dtype=np.float32)
        self._obs_np = np.zeros((N, OBS_DIM))  # the step's working buffer: every entry is rewritten each step
        self._current = np.zeros((N, CURRENT_DIM))
        self._prev = np.zeros((N, CURRENT_DIM))  # the previous frame, unclipped (metaworld's _prev_obs)
        self._low = np.full((N, OBS_DIM), -np.inf)
        self._high = np.full((N, OBS_DIM), np.inf)
        self._goal_visible = np.zeros(N, dtype=bool)
        self._steps = np.zeros(N, dtype=np.int64)

    def _after_reset(self, flat_mask: np.ndarray, obs: np.ndarray) -> None:
        for i in np.flatnonzero(flat_mask):
            env = self._wrappers[i].unwrapped
            self._prev[i] = obs[i, :CURRENT_DIM]
            space = env.sawyer_observation_space
            self._low[i], self._high[i] = space.low, space.high
            self._goal_visible[i] = not env._partially_observable
            self._steps[i] = 0

    def step(self, actions: Tensor) -> StepResult:
        """Step every sub-env with ``actions`` ``(T, E, 4)`` (clipped to ``[-1, 1]``); see the module docstring."""
        acts = self._flat_actions(actions)
        N = len(self._subs)
        deltas = (acts[:, :3] * self._scale[:, None]).tolist()  # float32, as metaworld's action * action_scale
        efforts = acts[:, 3].tolist()
        current = self._current
        for i, sub in self._fast:
            sub.physics(deltas[i], efforts[i])
        if self._fast:
            current[self._fast_rows] = [sub.current() for _, sub in self._fast]
        obs = self._obs_np
        obs[:, :CURRENT_DIM] = current
        obs[:, CURRENT_DIM:2 * CURRENT_DIM] = self._prev
        obs[:, 2 * CURRENT_DIM:] = [sub.env._target_pos.tolist() if sub is not None and self._goal_visible[i]
                                    else _NO_GOAL for i, sub in enumerate(self._subs)]
        self._prev[:] = current
        np.clip(obs, self._low, self._high, out=obs)
        self._steps += 1
        reward = np.zeros(N)
        success = np.zeros(N, dtype=bool)
        truncated = self._steps >= self._max_steps
        terminated = np.zeros(N, dtype=bool)
        obs_rows = obs.tolist()
        action_rows = acts.tolist()
        for i, sub in self._fast:
            reward[i], success[i] = sub.kernel.reward(obs_rows[i], action_rows[i])
        for i in self._slow:
            o, r, term, trunc, info = self._wrappers[i].step(acts[i])
            obs[i], reward[i], terminated[i], truncated[i] = o, r, term, trunc
            success[i] = bool(info["success"])
            self._prev[i] = o[:CURRENT_DIM]  # unused for reference sub-envs; kept coherent
        return self._step_result(obs, reward, terminated, truncated, success)  # it copies what it keeps
