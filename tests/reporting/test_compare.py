"""`mtrl compare`: a tiny grid on a local Ray instance; tables agree with the runs; the sweep resumes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("ray")  # one worker: see tests/conftest.py

pytest.importorskip("ray")
pytest.importorskip("rliable")

from mtrl.compare import read_status, sweep  # noqa: E402
from tests.helpers import ROOT  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_grid(tmp_path: Path, seeds=(0, 1)) -> Path:
    cfg = tmp_path / "grid.yaml"
    cfg.write_text(f"""
name: tiny
base: {ROOT / 'configs' / 'synthetic.yaml'}
overrides: [train.progress=false, train.total_steps_per_task=600, train.random_steps_per_task=200,
            train.log_every=200, train.checkpoint_every=200, train.eval_every=300, train.eval_episodes=10,
            'agent.sac.actor.hidden_sizes=[32,32]', 'agent.sac.critic.hidden_sizes=[32,32]',
            agent.sac.batch_size_per_task=32]
grid:
  surgery.name: [mean, pcgrad]
  seed: {list(seeds)}
bootstrap_reps: 200
""")
    return cfg


@pytest.mark.slow
def test_tiny_grid_on_ray_tables_match_runs(tmp_path):
    root = sweep(write_grid(tmp_path), sweep_dir=tmp_path / "sweep", emit=lambda s: None)
    runs = sorted((root / "runs").iterdir())
    assert len(runs) == 4
    assert all(read_status(r)["state"] == "done" for r in runs)
    summary = json.loads((root / "summary.json").read_text())
    for method in ("mean", "pcgrad"):
        scores = []
        for r in runs:
            if f"surgery.name={method}," in r.name:
                scores += list(json.loads((r / "eval.json").read_text())["per_task"].values())
        agg = summary["aggregate"]["synthetic"][method]
        assert abs(agg["mean"] - sum(scores) / len(scores)) < 1e-9
        assert agg["runs"] == 2
        assert agg["mean_ci"][0] - 1e-9 <= agg["mean"] <= agg["mean_ci"][1] + 1e-9
        assert agg["iqm_ci"][0] - 1e-9 <= agg["iqm"] <= agg["iqm_ci"][1] + 1e-9
    pairs = summary["probability_of_improvement"]["synthetic"]
    assert set(pairs) == {"mean > pcgrad", "pcgrad > mean"}
    for v in pairs.values():
        assert v["ci"][0] - 1e-9 <= v["p"] <= v["ci"][1] + 1e-9
    rows = (root / "results.csv").read_text().splitlines()
    assert rows[0] == "run_dir,method,benchmark,seed,step,task,success" and len(rows) == 1 + 4 * 4
    md = (root / "summary.md").read_text()
    assert "| pcgrad |" in md and "Per-task success" in md
    for png in ("curves_synthetic.png", "per_task_synthetic.png", "intervals.png"):
        data = (root / png).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5000, png


@pytest.mark.slow
def locked(run_dir: Path) -> bool:
    from mtrl.errors import RunDirError
    from mtrl.runs.lock import run_dir_lock

    try:
        with run_dir_lock(run_dir, "test"):
            return False
    except RunDirError:
        return True


def test_killed_sweep_resumes_without_redoing_finished_runs(tmp_path):
    cfg = write_grid(tmp_path, seeds=(0, 1))
    sweep_dir = tmp_path / "sweep"
    proc = subprocess.Popen([sys.executable, "-m", "mtrl.cli", "compare", str(cfg), "--sweep-dir", str(sweep_dir)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 600
    done: list[Path] = []
    while time.time() < deadline and not done:
        time.sleep(1)
        runs = list((sweep_dir / "runs").glob("*")) if (sweep_dir / "runs").exists() else []
        done = [r for r in runs if read_status(r)["state"] == "done"]
    assert done, "no run finished before the deadline"
    os.killpg(proc.pid, signal.SIGKILL)  # kill the driver (Ray's processes run in their own sessions)
    proc.wait()
    # its Ray workers end with it: soon no run directory is held (their run-dir locks die with them)
    deadline = time.time() + 30
    while time.time() < deadline and any(locked(r) for r in (sweep_dir / "runs").iterdir()):
        time.sleep(0.5)
    assert not any(locked(r) for r in (sweep_dir / "runs").iterdir()), "a run goes on after its sweep was killed"
    finished_before = {r.name: (r / "eval.json").stat().st_mtime_ns for r in done}
    root = sweep(cfg, sweep_dir=sweep_dir, emit=lambda s: None)
    runs = sorted((root / "runs").iterdir())
    assert len(runs) == 4 and all(read_status(r)["state"] == "done" for r in runs)
    for name, mtime in finished_before.items():
        assert (root / "runs" / name / "eval.json").stat().st_mtime_ns == mtime, f"{name} was redone"


def test_unknown_grid_key_fails_before_any_run(tmp_path):
    from mtrl.errors import ConfigError

    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"base: {ROOT / 'configs' / 'synthetic.yaml'}\ngrid:\n  surgery.nme: [mean]\n")
    with pytest.raises(ConfigError, match="nme"):
        sweep(cfg, sweep_dir=tmp_path / "sweep", emit=lambda s: None)
    assert not (tmp_path / "sweep" / "runs").exists()
