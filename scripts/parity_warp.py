"""Parity of the MuJoCo Warp backend with the reference ``metaworld`` package, per task.

    python scripts/parity_warp.py --tasks reach-v3 push-v3                 # short traces, CPU Warp
    python scripts/parity_warp.py --benchmark MT50 --steps 500 --goals 4 --expert-episodes 10 --device cuda \
        --json parity_mt50.json                                            # full episodes on a GPU

Runs with the reference environment's Python; the Warp side runs in ``MTRL_WARP_PYTHON`` (default
``.venv-warp/bin/python``, made by ``scripts/setup_warp_env.sh``). Prints one row per task and exits 1 if a task is
outside the tolerances of ``mtrl/bench/parity/warp.py``.
"""

from __future__ import annotations

import argparse
import json
import sys

from mtrl.bench.parity.warp import (
    EXPERT_SUCCESS_GAP,
    MAX_REWARD_TOLERANCE,
    MEAN_OBS_TOLERANCE,
    SUCCESS_AGREEMENT,
    warp_parity,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--benchmark", default="MT10", choices=["MT10", "MT50"], help="the tasks, without --tasks")
    parser.add_argument("--steps", type=int, default=40, help="traced steps per goal")
    parser.add_argument("--goals", type=int, default=2, help="traced goals per task")
    parser.add_argument("--expert-episodes", type=int, default=0, help="scripted-expert episodes per backend")
    parser.add_argument("--expert-steps", type=int, default=500)
    parser.add_argument("--device", default="cpu", help="the Warp side's device")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.tasks:
        tasks = args.tasks
    else:
        from metaworld import env_dict

        tasks = list(env_dict.MT10_V3 if args.benchmark == "MT10" else env_dict.MT50_V3)
    rows = warp_parity(tasks, steps=args.steps, goals=args.goals, expert_episodes=args.expert_episodes,
                       expert_steps=args.expert_steps, seed=args.seed, device=args.device)
    print(f"tolerances: mean obs dev <= {MEAN_OBS_TOLERANCE:g}, max reward dev <= {MAX_REWARD_TOLERANCE:g}, "
          f"success agreement >= {SUCCESS_AGREEMENT:g}, expert success gap <= {EXPERT_SUCCESS_GAP:g}")
    print(f"{'task':30s} {'steps':>6s} {'max obs':>8s} {'mean obs':>9s} {'max rew':>8s} {'mean rew':>9s} "
          f"{'succ agree':>10s} {'expert ref':>10s} {'expert warp':>11s}  ok")
    for row in rows:
        fmt = (lambda v: "-" if v is None else f"{v:.2f}")  # noqa: E731
        print(f"{row.task:30s} {row.steps:6d} {row.max_obs_dev:8.1e} {row.mean_obs_dev:9.1e} {row.max_reward_dev:8.1e} "
              f"{row.mean_reward_dev:9.1e} {row.success_agreement:10.3f} {fmt(row.reference_expert_success):>10s} "
              f"{fmt(row.warp_expert_success):>11s}  {'yes' if row.ok else 'NO'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([row.to_dict() for row in rows], f, indent=1)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
