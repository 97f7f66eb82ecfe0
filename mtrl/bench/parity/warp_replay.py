"""The Warp side of the parity suite: replay the reference's traces on MuJoCo Warp and compare, per task.

Run in the Warp environment: ``python -m mtrl.bench.parity.warp_replay --states S.npz --out R.json`` where ``S.npz`` is
a reference export with traces (``scripts/parity_warp.py`` makes it and runs this). For every traced
``(task, goal)`` the Warp env is reset to that goal's exported state and stepped with the same actions; the report
holds, per task, the max and mean absolute deviations of observations and rewards over all traced steps, the share
of steps whose success flags agree, and (with ``--scripted-episodes``) the success rate of metaworld's scripted
expert run closed-loop on the Warp env.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import torch

from envs.warp_metaworld.env import WarpMetaWorldVectorEnv, load_reset_states

_TRACE = re.compile(r"^(?P<task>[^/]+)/trace(?P<goal>\d+)/actions$")


def replay_traces(states: str | Path, device: str = "cpu") -> dict[str, dict[str, float]]:
    """Deviations of the Warp env from the reference traces in ``states``, per task."""
    meta, arrays = load_reset_states(states)
    traced: dict[str, list[int]] = {}
    for key in arrays:
        match = _TRACE.match(key)
        if match:
            traced.setdefault(match["task"], []).append(int(match["goal"]))
    tasks = [t["name"] for t in meta["tasks"] if t["name"] in traced]
    goals = [sorted(traced[task]) for task in tasks]
    E = len(goals[0])
    if any(len(g) != E for g in goals):
        raise ValueError("every traced task needs the same number of traced goals")
    steps = min(len(arrays[f"{task}/trace{g}/reward"]) for task, gs in zip(tasks, goals, strict=True) for g in gs)
    env = WarpMetaWorldVectorEnv(states, envs_per_task=E, seed=meta["seed"], device=device, tasks=tasks)
    ref = {name: np.stack([np.stack([arrays[f"{task}/trace{g}/{name}"] for g in gs])
                           for task, gs in zip(tasks, goals, strict=True)])
           for name in ("obs", "reward", "success", "actions")}  # (T, E, steps(+1), ...)
    obs = env.reset(goal_indices=torch.tensor(goals)).cpu().double().numpy()
    obs_dev = [np.abs(obs - ref["obs"][:, :, 0])]
    reward_dev, agree = [], []
    for s in range(steps):
        out = env.step(torch.as_tensor(ref["actions"][:, :, s], dtype=torch.float32))
        obs_dev.append(np.abs(out.obs.cpu().double().numpy() - ref["obs"][:, :, s + 1]))
        reward_dev.append(np.abs(out.reward.cpu().double().numpy() - ref["reward"][:, :, s]))
        agree.append(out.success.cpu().numpy() == ref["success"][:, :, s])
    obs_dev_a, reward_dev_a, agree_a = np.stack(obs_dev, 2), np.stack(reward_dev, 2), np.stack(agree, 2)
    return {task: {"steps": steps * E, "max_obs_dev": float(obs_dev_a[t].max()),
                   "mean_obs_dev": float(obs_dev_a[t].mean()), "max_reward_dev": float(reward_dev_a[t].max()),
                   "mean_reward_dev": float(reward_dev_a[t].mean()), "success_agreement": float(agree_a[t].mean())}
            for t, task in enumerate(tasks)}


def scripted_success(states: str | Path, episodes: int, device: str = "cpu", noise: float = 0.0,
                     episode_steps: int | None = None, seed_offset: int = 0) -> dict[str, float]:
    """Success rate of metaworld's scripted expert on the Warp env, goals ``0 .. episodes - 1`` of every task, run
    closed-loop (the policy reads the Warp observation)."""
    from metaworld.policies import ENV_POLICY_MAP  # the policies are plain numpy: importable beside MuJoCo 4

    meta, _ = load_reset_states(states)
    tasks = [t["name"] for t in meta["tasks"]]
    env = WarpMetaWorldVectorEnv(states, envs_per_task=episodes, seed=meta["seed"], device=device)
    policies = [ENV_POLICY_MAP[task]() for task in tasks]
    rng = np.random.default_rng(meta["seed"] + seed_offset)
    goals = torch.arange(episodes).repeat(len(tasks), 1)
    obs = env.reset(goal_indices=goals).cpu().double().numpy()
    hit = np.zeros((len(tasks), episodes), dtype=bool)
    for _ in range(episode_steps or env.info.max_episode_steps):
        actions = np.stack([[policies[t].get_action(obs[t, e]) for e in range(episodes)] for t in range(len(tasks))])
        actions = np.clip(actions + noise * rng.standard_normal(actions.shape), -1, 1)
        out = env.step(torch.as_tensor(actions, dtype=torch.float32))
        hit |= out.success.cpu().numpy()
        obs = out.obs.cpu().double().numpy()
        if bool(out.truncated.all()):
            break
    return {task: float(hit[t].mean()) for t, task in enumerate(tasks)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", required=True, help="reference export with traces")
    parser.add_argument("--out", required=True, help="JSON report")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--scripted-episodes", type=int, default=0)
    parser.add_argument("--scripted-steps", type=int, default=None)
    parser.add_argument("--noise", type=float, default=0.0)
    args = parser.parse_args(argv)
    report: dict = {"traces": replay_traces(args.states, args.device)}
    if args.scripted_episodes:
        report["scripted_success"] = scripted_success(args.states, args.scripted_episodes, args.device, args.noise,
                                                      args.scripted_steps)
    Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
