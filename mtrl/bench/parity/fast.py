"""Parity of the fast backend with the reference ``metaworld`` step, per task.

:func:`trace_parity` builds the reference env (:class:`~envs.metaworld_env.MetaWorldVectorEnv`) and the fast env
(:class:`~envs.fast_metaworld.FastMetaWorldVectorEnv`) for the same tasks and seed, so both start every episode from
the same goal and the same simulator state, and steps both with the same actions: uniform random ones, or
metaworld's scripted expert policy for the task (computed from the reference observation), which reaches the
contact-rich, rewarding parts of a task that random actions never see. It reports, per task, the largest deviation
of observations and rewards and the number of steps whose success flags differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

OBS_TOLERANCE = 1e-9  # same physics, same inputs: only quaternion and norm rounding may differ
REWARD_TOLERANCE = 1e-5  # metaworld computes parts of the grasp rewards in float32 (the action's dtype)


@dataclass
class TaskParity:
    """Deviations of the fast backend from the reference on one task's trace.

    Attributes:
        task: v3 task name; ``policy``: ``random`` | ``scripted``; ``steps``: env steps compared.
        max_obs_dev, max_reward_dev: largest absolute deviations; ``success_mismatches``: steps whose flags differ.
        reference_success, fast_success: share of episodes that succeeded (flag 1 at any step) on each backend.
    """

    task: str
    policy: str
    steps: int
    max_obs_dev: float
    max_reward_dev: float
    success_mismatches: int
    reference_success: float
    fast_success: float

    @property
    def ok(self) -> bool:
        return (self.max_obs_dev <= OBS_TOLERANCE and self.max_reward_dev <= REWARD_TOLERANCE
                and self.success_mismatches == 0)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def scripted_policy(task: str):
    """metaworld's scripted expert for ``task`` (``metaworld.policies.ENV_POLICY_MAP``)."""
    from metaworld.policies import ENV_POLICY_MAP

    if task not in ENV_POLICY_MAP:
        raise ValueError(f"metaworld has no scripted policy for {task}")
    return ENV_POLICY_MAP[task]()


def trace_parity(tasks: Sequence[str], *, steps: int, episode_steps: int = 500, policy: str = "random",
                 seed: int = 0, noise: float = 0.0) -> list[TaskParity]:
    """Step the reference and the fast backend side by side on ``tasks`` (one env per task, ``custom`` benchmark).

    Args:
        tasks: v3 task names.
        steps: env steps per task (episodes of ``episode_steps`` steps, reset in lockstep).
        policy: ``random`` (uniform actions from a fixed seed) or ``scripted`` (metaworld's expert, with Gaussian
            ``noise`` of that standard deviation added, then clipped).
        seed: the benchmark seed (goals and simulator seeds of both backends).

    Returns:
        One :class:`TaskParity` per task.
    """
    from envs.fast_metaworld import FastMetaWorldVectorEnv
    from envs.metaworld_env import MetaWorldVectorEnv

    if policy not in ("random", "scripted"):
        raise ValueError(f"unknown policy {policy!r}; valid: random, scripted")
    kwargs = dict(envs_per_task=1, seed=seed, max_episode_steps=episode_steps)
    reference = MetaWorldVectorEnv("custom", list(tasks), **kwargs)
    fast = FastMetaWorldVectorEnv("custom", list(tasks), **kwargs)
    T = len(tasks)
    experts = [scripted_policy(task) for task in tasks] if policy == "scripted" else None
    rng = np.random.default_rng(seed)
    obs_dev = np.zeros(T)
    reward_dev = np.zeros(T)
    mismatches = np.zeros(T, dtype=np.int64)
    episodes = 0
    ref_success = np.zeros(T)
    fast_success = np.zeros(T)
    ref_hit = np.zeros(T, dtype=bool)
    fast_hit = np.zeros(T, dtype=bool)
    try:
        reference.reset()
        fast.reset()
        obs_dev = np.maximum(obs_dev, np.abs(reference.last_raw_obs - fast.last_raw_obs).max(axis=1))
        for step in range(steps):
            if experts is None:
                actions = rng.uniform(-1, 1, size=(T, 1, 4))
            else:
                flat = reference.last_raw_obs
                actions = np.stack([experts[t].get_action(flat[t]) for t in range(T)])[:, None]
                actions = actions + noise * rng.standard_normal(actions.shape)
            actions_t = torch.from_numpy(np.clip(actions, -1, 1).astype(np.float32))
            ref = reference.step(actions_t)
            out = fast.step(actions_t)
            obs_dev = np.maximum(obs_dev, np.abs(reference.last_raw_obs - fast.last_raw_obs).max(axis=1))
            reward_dev = np.maximum(reward_dev, np.abs(reference.last_raw_reward - fast.last_raw_reward))
            mismatches += (ref.success != out.success).reshape(T).numpy()
            ref_hit |= ref.success.reshape(T).numpy()
            fast_hit |= out.success.reshape(T).numpy()
            if (step + 1) % episode_steps == 0 or step + 1 == steps:
                episodes += 1
                ref_success += ref_hit
                fast_success += fast_hit
                ref_hit[:] = False
                fast_hit[:] = False
                if step + 1 < steps:
                    reference.reset()
                    fast.reset()
    finally:
        reference.close()
        fast.close()
    return [TaskParity(task, policy, steps, float(obs_dev[t]), float(reward_dev[t]), int(mismatches[t]),
                       float(ref_success[t] / max(episodes, 1)), float(fast_success[t] / max(episodes, 1)))
            for t, task in enumerate(tasks)]
