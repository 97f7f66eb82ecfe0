"""The Warp task kernels compute what the scalar kernels compute, on the same (reference simulator) states.

    python scripts/check_warp_kernels.py                       # every task with a Warp kernel
    python scripts/check_warp_kernels.py --tasks reach-v3 --steps 300

Runs in the reference environment (no Warp needed): see ``mtrl/bench/parity/kernels.py``. Prints a row per
task and policy and exits 1 if any is outside the tolerances.
"""

from __future__ import annotations

import argparse
import sys

from envs.warp_metaworld.tasks import KERNELS
from mtrl.bench.parity.kernels import OBJECTS_TOLERANCE, REWARD_TOLERANCE, kernel_equivalence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--worlds", type=int, default=3)
    parser.add_argument("--policies", nargs="+", default=["random", "scripted"], choices=["random", "scripted"])
    args = parser.parse_args(argv)
    ok = True
    print(f"tolerances: objects {OBJECTS_TOLERANCE:g}, reward {REWARD_TOLERANCE:g}, success flags exact")
    for task in args.tasks or sorted(KERNELS):
        for policy in args.policies:
            row = kernel_equivalence(task, steps=args.steps, worlds=args.worlds, policy=policy)
            ok &= row.ok
            print(f"{task:32s} {policy:9s} objects {row.max_objects_dev:8.1e} reward {row.max_reward_dev:8.1e} "
                  f"success != {row.success_mismatches:3d}  {'ok' if row.ok else 'FAIL'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
