"""The ``mtrl`` command line: train, evaluate, bench. Thin: parsing and error reporting only."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mtrl.errors import MtrlError, RunDirError
from mtrl.names import PRECISIONS  # torch-free: parsing the command line does not import torch (a test checks)


def _trust_checkpoints(args: argparse.Namespace) -> None:
    """``--trust-checkpoint``: let checkpoints that need a full unpickle load (see mtrl.runs.checkpoint)."""
    if args.trust_checkpoint:
        from mtrl.runs.checkpoint import TRUST_ENV_VAR

        os.environ[TRUST_ENV_VAR] = "1"


def _cmd_train(args: argparse.Namespace) -> None:
    from mtrl.config import load_config
    from mtrl.train import train

    _trust_checkpoints(args)
    if args.resume is not None:
        if args.config is not None or args.overrides:
            raise MtrlError("--resume continues a run with its recorded config; give no CONFIG or overrides")
        train(None, resume_dir=Path(args.resume))  # type: ignore[arg-type]
        return
    if args.config is None:
        raise MtrlError("give a CONFIG file (see configs/) or --resume RUN_DIR")
    cfg = load_config(args.config, args.overrides)
    train(cfg)


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from mtrl.evaluate_run import evaluate_run

    _trust_checkpoints(args)
    evaluate_run(Path(args.target), episodes=args.episodes, output=Path(args.output) if args.output else None,
                 device=args.device)


def _cmd_config(args: argparse.Namespace) -> None:
    if args.help_section is not None:
        from mtrl.config_help import reference

        fields = reference(args.help_section)  # an unknown section is an error before anything is printed
        args.help_parser.print_help()
        print("\nFields (`mtrl config --help SECTION` for one section, e.g. agent.sac; the same text as "
              "docs/configuration.md):\n")
        print(fields, end="")
        return
    from mtrl.config import load_config, to_yaml

    print(to_yaml(load_config(args.config, args.overrides)), end="")


def _cmd_bench_surgery(args: argparse.Namespace) -> None:
    from mtrl.bench.surgery import run

    run(task_counts=args.tasks, methods=args.methods, torchjd_methods=args.torchjd, iters=args.iters,
        rounds=args.rounds, batch_size_per_task=args.batch, device=args.device)


def _cmd_bench_env(args: argparse.Namespace) -> None:
    from mtrl.bench.env import run

    run(benchmarks=args.benchmarks, strategies=args.strategies, backends=args.backends,
        envs_per_task=args.envs_per_task, steps=args.steps,
        rounds=args.rounds, seed=args.seed, physics=not args.no_physics, envpool=args.envpool,
        warp_worlds=args.warp_worlds, warp_device=args.warp_device)


def _cmd_bench_update(args: argparse.Namespace) -> None:
    from mtrl.bench.update import run

    run(algos=args.algos, task_counts=args.tasks, modes=args.modes, precisions=args.precisions, iters=args.iters,
        rounds=args.rounds, batch_size_per_task=args.batch, hidden=args.hidden, device=args.device)


def _cmd_bench_train(args: argparse.Namespace) -> None:
    from mtrl.bench.train import run

    run(configs=args.configs, overrides=args.overrides, episodes=args.episodes, warmup_episodes=args.warmup,
        episode_steps=args.episode_steps, env_only_steps=args.env_only_steps, profile=args.profile,
        precisions=args.precisions)


def _cmd_bench_sb3(args: argparse.Namespace) -> None:
    from mtrl.bench.sb3 import run

    run(envs=args.envs, batch=args.batch, hidden=args.hidden, iters=args.iters, rounds=args.rounds, steps=args.steps,
        synthetic_steps=args.synthetic_steps, eval_every=args.eval_every, eval_episodes=args.eval_episodes,
        out=args.out, curves=not args.no_curves, threads=args.threads, overrides=args.overrides)


def _cmd_bench_nets(args: argparse.Namespace) -> None:
    from mtrl.bench.nets import run

    run(task_counts=args.tasks, archs=args.archs, iters=args.iters, rounds=args.rounds,
        batch_size_per_task=args.batch, device=args.device)


def _cmd_bench_replay(args: argparse.Namespace) -> None:
    from mtrl.bench.replay import SIZES, run

    run(SIZES, iters=args.iters, rounds=args.rounds, device=args.device)


def _cmd_compare(args: argparse.Namespace) -> None:
    from mtrl.compare import sweep

    sweep(args.config, args.overrides, address=args.address, sweep_dir=args.sweep_dir)


def _cmd_report(args: argparse.Namespace) -> None:
    if args.collect:
        from mtrl.results import collect

        if len(args.run_dirs) != 2:
            raise RunDirError("report --collect takes two paths: RUN_DIR results/NAME")
        copies = collect(Path(args.run_dirs[0]), Path(args.run_dirs[1]))
        print(f"copied {', '.join(p.name for p in copies)} to {args.run_dirs[1]}")
        return
    from mtrl.compare import main_report

    main_report(args.run_dirs, args.out, args.method_keys, args.published, args.bootstrap_reps)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtrl", description="Multi-task reinforcement learning on Meta-World."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train an agent from a YAML config (or resume a run)",
                       description="Train from CONFIG with key=value overrides, e.g. "
                                   "`mtrl train configs/mt10_mtsac.yaml surgery.name=pcgrad seed=1`.")
    p.add_argument("config", nargs="?", help="YAML config file (see configs/)")
    p.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="load checkpoints that need a full unpickle (older mtrl files; this can run code stored in "
                        "the file: only for files you trust)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="run the official Meta-World evaluation protocol on a run or checkpoint")
    p.add_argument("target", help="a run directory (newest checkpoint) or a checkpoint file")
    p.add_argument("--episodes", type=int, default=50, help="episodes per task (protocol: 50, default)")
    p.add_argument("--output", help="where to write the JSON result (default: RUN_DIR/eval.json for the run's newest "
                                    "checkpoint, else <checkpoint>.eval.json beside the file)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="load checkpoints that need a full unpickle (older mtrl files; this can run code stored in "
                        "the file: only for files you trust)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("compare", help="run a grid of training runs on Ray and report statistics with CIs",
                       description="Run (or continue) the sweep in CONFIG (see configs/compare_*.yaml), then "
                                   "write results.csv, summary.md and figures into the sweep directory.")
    p.add_argument("config", help="compare config: base training config + grid")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the compare config")
    p.add_argument("--address", help="an existing Ray cluster (default: start a local instance)")
    p.add_argument("--sweep-dir", help="sweep directory (default: the config's sweep_dir or runs/sweeps/NAME)")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("report", help="statistics, figures and a results page from existing run directories",
                       description="Statistics and figures in OUT and the results page OUT.md beside it, e.g. "
                                   "`mtrl report results --out docs/results` writes docs/results.md.")
    p.add_argument("run_dirs", nargs="+", help="finished run directories or result folders, or folders of them")
    p.add_argument("--out", help="output directory (default runs/report); the page is OUT.md")
    p.add_argument("--method-keys", nargs="+",
                   help="config keys naming a run's method (default: name; a surgery other than the mean is "
                        "appended unless surgery.name is a key)")
    p.add_argument("--published", help="published numbers to show beside ours (default: the repository's "
                                       "docs/published.yaml; 'none' leaves them out)")
    p.add_argument("--bootstrap-reps", type=int, default=2000,
                   help="stratified-bootstrap resamples for the confidence intervals (default 2000)")
    p.add_argument("--collect", action="store_true",
                   help="instead: copy RUN_DIR's small artefacts (no checkpoints) into results/NAME")
    p.set_defaults(func=_cmd_report)

    from mtrl.bench import ARCHS

    bench = sub.add_parser("bench", help="benchmarks: ratios against a baseline measured in the same run")
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="WHAT")
    p = bench_sub.add_parser("surgery", help="update time of every surgery method relative to the plain mean")
    p.add_argument("--tasks", type=int, nargs="+", default=[10, 50], help="numbers of tasks T (default 10 50)")
    p.add_argument("--methods", nargs="+", help="methods to time (default: all)")
    p.add_argument("--torchjd", nargs="*", default=["UPGrad"], help="torchjd aggregators timed with its backward")
    p.add_argument("--iters", type=int, default=5, help="updates per timing round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    p.add_argument("--batch", type=int, default=128, help="batch size per task")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.set_defaults(func=_cmd_bench_surgery)
    p = bench_sub.add_parser("env", help="env steps/s of the Meta-World backends vs plain metaworld and mj_step")
    p.add_argument("--benchmarks", nargs="+", default=["MT10", "MT50"],
                   help="MT10 | MT50 | custom:task-a,task-b (default MT10 MT50)")
    p.add_argument("--strategies", nargs="+", default=["sync", "async"], choices=["sync", "async"],
                   help="vector strategies of the reference backend (default sync async)")
    p.add_argument("--backends", nargs="+", default=["reference", "fast"], choices=["reference", "fast"],
                   help="mtrl backends to time (default reference fast; fast is sync only)")
    p.add_argument("--envs-per-task", type=int, nargs="+", default=[1], help="copies per task (default 1)")
    p.add_argument("--steps", type=int, default=500, help="vector steps per timing round (default 500)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    p.add_argument("--seed", type=int, default=0, help="env and action seed")
    p.add_argument("--no-physics", action="store_true", help="skip the bare mj_step row")
    p.add_argument("--envpool", action="store_true", help="add envpool's native Meta-World pools (speed only)")
    p.add_argument("--warp-worlds", type=int, nargs="*", default=[],
                   help="add the MuJoCo Warp backend with these worlds per task (needs .venv-warp)")
    p.add_argument("--warp-device", default="cuda", help="device of the Warp backend (default cuda; cpu works)")
    p.set_defaults(func=_cmd_bench_env)
    p = bench_sub.add_parser("update", help="MTSAC / MTPPO update time and updates/s, eager vs compiled")
    p.add_argument("--algos", nargs="+", default=["mtsac", "mtppo"], choices=["mtsac", "mtppo"])
    p.add_argument("--tasks", type=int, nargs="+", default=[10, 50], help="numbers of tasks T (default 10 50)")
    p.add_argument("--modes", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    p.add_argument("--precisions", nargs="+", default=["fp32"], choices=PRECISIONS,
                   help="agent.*.precision values to time (default fp32; tf32 needs CUDA)")
    p.add_argument("--iters", type=int, default=5, help="updates per timing round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    p.add_argument("--batch", type=int, default=128, help="MTSAC batch size per task")
    p.add_argument("--hidden", type=int, nargs="+", default=[400, 400, 400], help="MLP hidden sizes")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.set_defaults(func=_cmd_bench_update)
    p = bench_sub.add_parser("train", help="end-to-end MTSAC training env steps/s and where the time goes")
    p.add_argument("--configs", nargs="+", default=["configs/mt10_mtsac.yaml", "configs/synthetic.yaml"],
                   help="training configs (default: MT10 MTSAC and synthetic)")
    p.add_argument("overrides", nargs="*", help="dotted key=value overrides for every config")
    p.add_argument("--precisions", nargs="+", default=["fp32"], choices=PRECISIONS,
                   help="agent.sac.precision values, each config measured in each (default fp32)")
    p.add_argument("--episodes", type=int, default=1, help="timed episodes (default 1)")
    p.add_argument("--warmup", type=int, default=1, help="untimed episodes first (default 1)")
    p.add_argument("--episode-steps", type=int, default=100, help="Meta-World episode length here (default 100)")
    p.add_argument("--env-only-steps", type=int, default=200, help="vector steps of each env-only block")
    p.add_argument("--profile", metavar="DIR", help="write cProfile stats there and print the top entries")
    p.set_defaults(func=_cmd_bench_train)
    p = bench_sub.add_parser("sb3", help="MTSAC on one task vs Stable-Baselines3's SAC: update time, learning curves",
                             description="Same task, networks, batch size and budget for both: median ms per "
                                         "update (ratio ours / SB3 in the same run) and success vs steps on one "
                                         "PNG. Needs stable-baselines3 (pip install 'mtrl[sb3]').")
    p.add_argument("overrides", nargs="*", help="dotted key=value overrides of both learners' config")
    p.add_argument("--envs", nargs="+", default=["reach-v3", "synthetic"], choices=["reach-v3", "synthetic"])
    p.add_argument("--batch", type=int, default=256, help="batch size of both (default 256, SB3's)")
    p.add_argument("--hidden", type=int, nargs="+", help="hidden sizes (default: each env's config)")
    p.add_argument("--iters", type=int, default=30, help="updates per timing round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    p.add_argument("--steps", type=int, default=20_000, help="reach-v3 training budget per learner (default 20000)")
    p.add_argument("--synthetic-steps", type=int, help="synthetic training budget (default: its config's 4000)")
    p.add_argument("--eval-every", type=int, help="steps between evaluations (default: a quarter of the budget)")
    p.add_argument("--eval-episodes", type=int, default=50, help="evaluation episodes (protocol: 50)")
    p.add_argument("--out", default="runs/bench_sb3", help="runs, curves.png and results.jsonl go here")
    p.add_argument("--no-curves", action="store_true", help="time the updates only")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.set_defaults(func=_cmd_bench_sb3)
    p = bench_sub.add_parser("nets", help="MTSAC update time and parameters of every architecture vs the shared MLP")
    p.add_argument("--tasks", type=int, nargs="+", default=[10, 50], help="numbers of tasks (10: MT10, 50: MT50)")
    p.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS, help="architectures to time")
    p.add_argument("--iters", type=int, default=3, help="updates per timing round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (median reported)")
    p.add_argument("--batch", type=int, default=128, help="transitions per task per update")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.set_defaults(func=_cmd_bench_nets)
    p = bench_sub.add_parser("replay", help="replay sampling: packed rows vs one tensor per field")
    p.add_argument("--iters", type=int, default=100, help="samples per timing round")
    p.add_argument("--rounds", type=int, default=9, help="interleaved timing rounds (median reported)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.set_defaults(func=_cmd_bench_replay)

    p = sub.add_parser("config", help="print the fully resolved config (defaults + YAML + overrides)",
                       add_help=False)
    p.add_argument("config", nargs="?", help="YAML config file")
    p.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    p.add_argument("-h", "--help", dest="help_section", nargs="?", const="", metavar="SECTION",
                   help="show this help and every config field (default, valid values, meaning), or only those of "
                        "SECTION (e.g. agent.sac, train) or of one field")
    p.set_defaults(func=_cmd_config, help_parser=p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except MtrlError as err:
        print(f"mtrl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mtrl {args.command}: interrupted (checkpoints written so far are intact)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
