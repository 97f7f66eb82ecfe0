"""Parity of the fast Meta-World backend with the reference ``metaworld`` step, task by task.

    python scripts/parity_fast.py                                  # every task with a kernel, random + scripted
    python scripts/parity_fast.py --tasks reach-v3 push-v3 --steps 1000 --policies scripted --json out.json

Prints one row per task and policy (max deviations, success mismatches, scripted success on both backends) and
exits with status 1 if any task is outside the tolerances (``mtrl/bench/parity/fast.py``).
"""

from __future__ import annotations

import argparse
import json
import sys

from envs.fast_metaworld import fast_task_names
from mtrl.bench.parity.fast import OBS_TOLERANCE, REWARD_TOLERANCE, trace_parity


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=None, help="v3 task names (default: every fast task)")
    parser.add_argument("--steps", type=int, default=1000, help="env steps per task and policy")
    parser.add_argument("--episode-steps", type=int, default=500, help="episode length")
    parser.add_argument("--policies", nargs="+", default=["random", "scripted"], choices=["random", "scripted"])
    parser.add_argument("--noise", type=float, default=0.1, help="std of the noise added to scripted actions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    tasks = args.tasks or fast_task_names()
    rows = []
    print(f"tolerances: obs {OBS_TOLERANCE:g}, reward {REWARD_TOLERANCE:g}, success flags exact")
    print(f"{'task':32s} {'policy':9s} {'steps':>6s} {'obs dev':>9s} {'rew dev':>9s} {'succ !=':>7s} "
          f"{'ref succ':>8s} {'fast succ':>9s}  ok")
    for policy in args.policies:
        for row in trace_parity(tasks, steps=args.steps, episode_steps=args.episode_steps, policy=policy,
                                seed=args.seed, noise=args.noise if policy == "scripted" else 0.0):
            rows.append(row.to_dict())
            print(f"{row.task:32s} {row.policy:9s} {row.steps:6d} {row.max_obs_dev:9.1e} {row.max_reward_dev:9.1e} "
                  f"{row.success_mismatches:7d} {row.reference_success:8.2f} {row.fast_success:9.2f}  "
                  f"{'yes' if row.ok else 'NO'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
