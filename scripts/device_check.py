"""The GPU check: every figure a lent GPU should give mtrl, within 8 minutes, in one JSON report.

Steps (each with its own time limit; a failing step is recorded and the next one runs):

1. ``tests``: the CUDA-marked tests (``pytest -m cuda``).
2. ``bench_update``: ``mtrl bench update --device cuda`` for MTSAC and MTPPO, T = 10 and 50, fp32 / bf16 / tf32
   (eager), its JSON rows.
3. ``sync``: one full MTSAC update (MT10 shapes, PCGrad so that the per-layer Jacobian and the surgery run) and
   one training iteration of the off-policy loop (act, env step, replay add, update; the synthetic env, which
   runs on the device) under ``torch.cuda.set_sync_debug_mode("error")``, after a warm-up of each.
4. ``train``: ``mtrl train configs/mt10_mtmhsac.yaml device=cuda`` for 3 minutes (bf16), its env steps/s and
   updates/s from ``metrics.jsonl``.

``--dry-run`` runs the same steps on the CPU at tiny sizes (no sync debug mode there: the step runs the same
update and iteration and says so), so the script is tested where no GPU is (tests/test_device_check.py).
Run through ``scripts/device_check.sh``, which installs the carried wheels first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _command(args: list[str], timeout: float) -> dict[str, Any]:
    """Run ``python args`` in the repository; returns its exit code, seconds and output's tail."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as err:
        code, output = None, f"timed out after {timeout:.0f} s\n{err.stdout or ''}{err.stderr or ''}"
    return {"returncode": code, "seconds": round(time.perf_counter() - start, 1), "output": output}


def step_tests(dry: bool) -> dict[str, Any]:
    result = _command(["-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-q", "-m", "cuda", "tests"],
                      timeout=150)
    summary = result["output"].strip().splitlines()[-1:] if result["output"].strip() else [""]
    # pytest exits 5 when every test was deselected or skipped, as on a machine without CUDA
    ok = result["returncode"] == 0 or (dry and result["returncode"] == 5)
    return {"ok": ok, "summary": summary[0], "seconds": result["seconds"], "tail": _tail(result["output"])}


def step_bench_update(dry: bool) -> dict[str, Any]:
    if dry:
        args = ["--device", "cpu", "--tasks", "2", "--hidden", "16", "16", "--batch", "8", "--iters", "1",
                "--rounds", "1", "--precisions", "fp32", "bf16"]
    else:
        args = ["--device", "cuda", "--tasks", "10", "50", "--iters", "20", "--rounds", "3",
                "--precisions", "fp32", "bf16", "tf32"]
    result = _command(["-m", "mtrl.cli", "bench", "update", "--algos", "mtsac", "mtppo", "--modes", "eager", *args],
                      timeout=60 if dry else 180)
    rows = [json.loads(line) for line in result["output"].splitlines() if line.startswith('{"bench": "update"')]
    return {"ok": result["returncode"] == 0 and bool(rows), "rows": rows, "seconds": result["seconds"],
            "tail": "" if result["returncode"] == 0 else _tail(result["output"])}


def step_sync(dry: bool) -> dict[str, Any]:
    """An MTSAC update and an off-policy training iteration under the sync debug mode (see the module docstring)."""
    import torch

    from mtrl.agents.registry import build_agent, build_loop
    from mtrl.config import load_config

    device = torch.device("cpu" if dry else "cuda")
    hidden = "[16,16]" if dry else "[400,400,400]"
    cfg = load_config(ROOT / "configs" / "synthetic.yaml", [
        f"device={device.type}", "surgery.name=pcgrad", "surgery.diagnostics_every=0",
        f"agent.sac.actor.hidden_sizes={hidden}", f"agent.sac.critic.hidden_sizes={hidden}",
        "env.synthetic_num_tasks=10", "agent.sac.batch_size_per_task=128", "train.random_steps_per_task=0"])
    from envs import make_env
    from mtrl.runs.logger import MetricAccumulator

    env = make_env(cfg.env, seed=0, device=device)
    info = env.info
    agent = build_agent(cfg, info.obs_dim, info.action_dim, info.num_tasks, device)
    loop = build_loop(cfg, info, agent, device)
    metrics, finite = MetricAccumulator(), torch.ones((), dtype=torch.bool, device=device)

    def iteration(obs: Any) -> Any:
        action = agent.act(obs)
        result = env.step(action)
        loop.buffer.add(obs, action, result.reward, result.obs, result.terminated)
        loop._update(cfg.agent.sac.batch_size_per_task, 0, metrics, finite)
        return result.obs

    obs = env.reset()
    for _ in range(3):  # warm-up: lazy state, cuBLAS handles, the Jacobian's buffer
        obs = iteration(obs)
    checks: dict[str, Any] = {}
    for name, fn in (("update", lambda: agent.update(loop.buffer.sample(128))), ("iteration", lambda: iteration(obs))):
        try:
            if not dry:
                torch.cuda.synchronize()
                torch.cuda.set_sync_debug_mode("error")
            fn()
            checks[name] = "no host sync" if not dry else "ran (no sync debug mode on the CPU)"
        except RuntimeError as err:
            checks[name] = f"synchronised: {str(err).splitlines()[0][:300]}"
        finally:
            if not dry:
                torch.cuda.set_sync_debug_mode(0)
    env.close()
    return {"ok": all(v.startswith(("no host sync", "ran")) for v in checks.values()), **checks}


def step_train(dry: bool, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        if dry:
            config = ["configs/synthetic.yaml", "device=cpu", "agent.sac.actor.hidden_sizes=[16,16]",
                      "agent.sac.critic.hidden_sizes=[16,16]", "train.log_every=50", "train.random_steps_per_task=50"]
        else:
            config = ["configs/mt10_mtmhsac.yaml", "device=cuda", "agent.sac.precision=bf16", "train.log_every=500",
                      "train.random_steps_per_task=500"]
        result = _command(["-m", "mtrl.cli", "train", *config, f"run_dir={run_dir}", "train.progress=false",
                           "train.eval_every=0", "train.total_steps_per_task=10000000",
                           "train.checkpoint_every=10000000"], timeout=seconds)
        metrics = run_dir / "metrics.jsonl"
        rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip().endswith("}")] \
            if metrics.is_file() else []
    last = rows[-1] if rows else {}
    return {"ok": bool(rows) and result["returncode"] is None, "seconds": result["seconds"],
            "config": config, "rows": len(rows), "env_steps_per_task": last.get("step"),
            "env_steps_per_s": last.get("charts/env_steps_per_s"), "updates_per_s": last.get("charts/updates_per_s"),
            "tail": "" if rows else _tail(result["output"])}


def machine() -> dict[str, Any]:
    import torch

    record: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                              "cpus": os.cpu_count(), "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        record["gpu"] = torch.cuda.get_device_name(0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    record["commit"] = commit.stdout.strip() or None
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="the same steps on the CPU at tiny sizes")
    parser.add_argument("--out", default="device_check.json", help="the JSON report")
    parser.add_argument("--train-seconds", type=float, default=None, help="training time (default 180; dry 45)")
    args = parser.parse_args()
    dry = args.dry_run
    train_seconds = args.train_seconds or (45.0 if dry else 180.0)
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "tests": lambda: step_tests(dry),
        "bench_update": lambda: step_bench_update(dry),
        "sync": lambda: step_sync(dry),
        "train": lambda: step_train(dry, train_seconds),
    }
    report: dict[str, Any] = {"dry_run": dry, "machine": machine(), "steps": {}}
    if not dry and not report["machine"]["cuda"]:
        print("device_check: no CUDA device (use --dry-run on a CPU)", file=sys.stderr)
        sys.exit(2)
    out = Path(args.out)
    for name, step in steps.items():
        start = time.perf_counter()
        try:
            result = step()
        except Exception as err:  # a broken step is a finding; the others still run
            result = {"ok": False, "error": f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"}
        result.setdefault("seconds", round(time.perf_counter() - start, 1))
        report["steps"][name] = result
        print(f"device_check {name}: {'ok' if result['ok'] else 'FAILED'} ({result['seconds']} s)", flush=True)
        out.write_text(json.dumps(report, indent=1))  # a report so far survives a timeout of the whole command
    report["ok"] = all(step["ok"] for step in report["steps"].values())
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "steps"}))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
