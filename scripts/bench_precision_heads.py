"""Why the output heads stay float32 under ``precision: bf16``: the rounding of Q-values at Meta-World's scale.

A 3x400 critic (MT10 shapes: 39 + 4 inputs, 10 per-task heads, batch 128 per task) is given Q-values around a
chosen scale (its heads rescaled so that each task's outputs have mean ``scale`` and standard deviation
``spread``), then
evaluated three ways on the same batch:

* ``fp32``: everything float32 (the reference);
* ``bf16 trunk, fp32 head``: mtrl's ``bf16`` (hidden layers under autocast, head in float32);
* ``bf16 trunk, bf16 head``: the head's matmul under autocast too (its output rounded to bf16's 8 bits).

It prints the error of each against the reference, in absolute terms and relative to the spread of the Q-values,
at several scales of the same spread (Meta-World's v2 reward gives returns up to ~10 per step, so Q-values up to
~1000 with gamma 0.99). A TD error that a critic learns from near convergence is a few units; an error of that
size from rounding alone is noise in every target. Run: ``python scripts/bench_precision_heads.py``.
"""

from __future__ import annotations

import argparse

import torch

from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.precision import fp32_head


def q_values(net: TaskConditionedNet, x: torch.Tensor, onehots: torch.Tensor, mode: str) -> torch.Tensor:
    """``(T, B)`` Q-values in one of the three modes (see the module docstring)."""
    if mode == "fp32":
        return net(x, onehots).squeeze(-1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        features = net.encoder(x)
        out = fp32_head(net.head, features) if mode == "bf16 trunk, fp32 head" else net.head(features)
    return out.float().squeeze(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[10.0, 100.0, 1000.0])
    parser.add_argument("--spread", type=float, default=10.0, help="standard deviation of each task's Q-values")
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.manual_seed(0)
    T, B = args.tasks, args.batch
    net = TaskConditionedNet(39 + 4, 1, T, NetConfig(hidden_sizes=[400, 400, 400]))
    x = torch.randn(T, B, 39 + 4)
    onehots = torch.eye(T)
    print(f"{'scale':>7} {'mode':<24} {'max |err|':>10} {'median |err|':>13} {'max |err| / spread':>19}")
    for scale in args.scales:
        with torch.no_grad():
            raw = net(x, onehots).squeeze(-1)
            mean, std = raw.mean(1, keepdim=True), raw.std(1, keepdim=True)
            # rescale each task's head so its Q-values have mean `scale` and standard deviation `spread`
            factor = args.spread / std.squeeze(1)
            net.head.weight.mul_(factor[:, None, None])
            net.head.bias.copy_((net.head.bias - mean) * factor[:, None] + scale)
            reference = net(x, onehots).squeeze(-1)
            for mode in ("bf16 trunk, fp32 head", "bf16 trunk, bf16 head"):
                err = (q_values(net, x, onehots, mode) - reference).abs()
                print(f"{scale:7.0f} {mode:<24} {err.max():10.3f} {err.median():13.4f} "
                      f"{err.max() / args.spread:19.4f}")
            # undo, so every scale starts from the same network
            net.head.bias.copy_((net.head.bias - scale) / factor[:, None] + mean)
            net.head.weight.div_(factor[:, None, None])


if __name__ == "__main__":
    main()
