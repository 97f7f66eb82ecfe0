"""Env steps per second of the Warp backend, the Warp-environment half of ``mtrl bench env --warp-worlds``
(which runs ``python -m mtrl.bench.warp_env --states S.npz --worlds 1024 4096 --steps 200 --device cuda`` with the
Warp environment's Python on a reset-state export).

Random actions drawn on the device, episode ends reset by mask (as the training loop does), one warm-up round
(kernel compilation, CUDA graph capture) excluded, timed by the harness; prints one JSON line per world count.
"""

from __future__ import annotations

import argparse
import json

import torch

from envs.warp_metaworld.env import WarpMetaWorldVectorEnv, load_reset_states
from mtrl.bench.harness import Case, time_interleaved

WARMUP_STEPS = 5


def measure(states: str, worlds: int, steps: int, device: str, seed: int = 0) -> dict:
    meta, _ = load_reset_states(states)
    env = WarpMetaWorldVectorEnv(states, envs_per_task=worlds, seed=meta["seed"], device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    shape = (env.num_tasks, worlds, 4)

    def run(n: int) -> None:
        for _ in range(n):
            out = env.step(torch.rand(shape, device=device, generator=generator) * 2 - 1)
            if env._ended.any():  # host-side counters: no device sync
                env.reset(out.done)

    case = Case("warp", run, prepare=lambda _: env.reset(), units=env.num_tasks * worlds)
    seconds = time_interleaved([case], steps, rounds=1, warmup_iters=min(steps, WARMUP_STEPS))["warp"].median
    return {"bench": "env", "variant": f"warp-{device.split(':')[0]}-W{worlds}", "benchmark": meta["benchmark"],
            "tasks": env.num_tasks, "num_envs": env.num_tasks * worlds, "steps": steps,
            "steps_per_s": 1 / seconds,
            "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", required=True)
    parser.add_argument("--worlds", type=int, nargs="+", default=[1024])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    for worlds in args.worlds:
        print(json.dumps(measure(args.states, worlds, args.steps, args.device)), flush=True)


if __name__ == "__main__":
    main()
