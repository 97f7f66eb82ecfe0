"""Fault injection on run directories: kill -9 anywhere, corrupt and foreign checkpoints, torn JSONL lines, two
writers, checkpoints that carry code. Every resumed run must end with exactly the uninterrupted run's files.

A killed run is a real ``kill -9``: a child process patches one function (an update, an evaluation step, a
checkpoint write, a metrics write) to SIGKILL itself at its n-th call, n drawn from the test's seed.
"""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mtrl.config import load_config
from mtrl.errors import CheckpointError, RunDirError
from mtrl.evaluate_run import evaluate_run
from mtrl.runs.checkpoint import list_checkpoints, load_checkpoint
from mtrl.runs.lock import run_dir_lock
from mtrl.train import train
from tests.helpers import ROOT, SYNTHETIC, rows_without_wall_clock

TINY = ["train.total_steps_per_task=600", "train.random_steps_per_task=100", "train.log_every=100",
        "train.eval_every=100", "train.checkpoint_every=200", "train.keep_checkpoints=10", "train.eval_episodes=2",
        "train.progress=false", "env.eval_envs_per_task=2", "agent.sac.actor.hidden_sizes=[16]",
        "agent.sac.critic.hidden_sizes=[16]", "agent.sac.batch_size_per_task=8"]

# Runs `mtrl <argv>` after patching one function to kill -9 the process at its n-th call.
KILLER = r"""
import io, json, os, signal, sys
kind, n, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
calls = 0
def hit():
    global calls
    calls += 1
    return calls == n
def die():
    os.kill(os.getpid(), signal.SIGKILL)
if kind == "update":
    from mtrl.agents.sac import MTSAC
    update = MTSAC.update
    def killing_update(self, *args, **kwargs):
        if hit(): die()
        return update(self, *args, **kwargs)
    MTSAC.update = killing_update
elif kind == "evaluation":
    import mtrl.train
    evaluate = mtrl.train.evaluate
    def killing_evaluate(policy, env, episodes):
        def killing_policy(obs):
            if hit(): die()
            return policy(obs)
        return evaluate(killing_policy, env, episodes)
    mtrl.train.evaluate = killing_evaluate
elif kind == "checkpoint":
    import torch
    save = torch.save
    def killing_save(obj, f, *args, **kwargs):
        if not hit(): return save(obj, f, *args, **kwargs)
        buffer = io.BytesIO(); save(obj, buffer); data = buffer.getvalue()
        f.write(data[: len(data) // 2]); f.flush(); os.fsync(f.fileno()); die()
    torch.save = killing_save
elif kind == "log":
    from mtrl.runs.logger import RunLogger
    log = RunLogger.log
    def killing_log(self, step, scalars):
        if hit():
            line = json.dumps({"step": step, **scalars})
            self._jsonl.write(line[: len(line) // 2]); self._jsonl.flush(); die()
        return log(self, step, scalars)
    RunLogger.log = killing_log
from mtrl.cli import main
sys.exit(main(argv))
"""


def calls_left(kind: str, step: int) -> int:
    """Calls of ``kind`` a TINY run makes after ``step``: one update per step after the 100 random ones, 50 policy
    steps per evaluation (2 episodes on 2 copies), a checkpoint every 200 steps, a metrics row per log and per
    evaluation every 100 steps."""
    return {"update": 600 - max(step, 100), "evaluation": (600 - step) // 100 * 50,
            "checkpoint": (600 - step) // 200, "log": 2 * (600 - step) // 100}[kind]


KINDS = ["update", "evaluation", "checkpoint", "log"]


def child_env() -> dict[str, str]:
    # same intra-op threads as this process: the child's float results must equal the in-process reference
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(torch.get_num_threads())}


def kill_at(kind: str, n: int, *argv: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLER, kind, str(n), *argv], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, f"{kind} #{n} did not kill the run: {proc.stderr[-2000:]}"


def run_cli(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mtrl.cli", *argv], cwd=ROOT, env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted run."""
    run_dir, _ = train(load_config(SYNTHETIC, [f"run_dir={tmp_path_factory.mktemp('ref') / 'run'}", *TINY]))
    return run_dir


def evals(run_dir: Path) -> list[dict]:
    return rows_without_wall_clock(run_dir / "evals.jsonl")


def assert_same_run(run_dir: Path, reference: Path) -> None:
    """``run_dir`` holds exactly the reference's metrics, evaluations and checkpoint schedule."""
    ours = rows_without_wall_clock(run_dir / "metrics.jsonl")
    theirs = rows_without_wall_clock(reference / "metrics.jsonl")
    assert [r["step"] for r in ours] == [r["step"] for r in theirs], "duplicate or missing metric rows"
    assert ours == theirs
    assert evals(run_dir) == evals(reference), "duplicate, missing or different evaluation rows"
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == \
        [p.name for p in list_checkpoints(reference / "checkpoints")]
    assert not list(run_dir.rglob("*.tmp")), "temporary files of interrupted writes are left"


def snapshot(run_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and "tb" not in p.parts
            and not p.name.startswith(".lock")}


@pytest.mark.parametrize("seed", range(4))
def test_kill_9_anywhere_then_resume_equals_the_uninterrupted_run(seed, tmp_path, reference, capfd):
    rng = random.Random(seed)
    first, second = KINDS[seed % 4], rng.choice(KINDS)  # every kind first once; the second kill hits the resume
    run_dir = tmp_path / "run"
    kill_at(first, rng.randint(1, calls_left(first, 0)), "train", str(SYNTHETIC), f"run_dir={run_dir}", *TINY)
    owner = json.loads((run_dir / ".lock.owner").read_text())
    assert owner["command"] == "mtrl train"  # the dead process's lock record is still there: a stale lock
    done = list_checkpoints(run_dir / "checkpoints")
    left = calls_left(second, int(done[-1].stem.split("_")[1]) if done else 0)
    if left >= 1:
        kill_at(second, rng.randint(1, left), "train", "--resume", str(run_dir))
    resumed, _ = train(None, resume_dir=run_dir)  # type: ignore[arg-type]
    assert_same_run(resumed, reference)

    # resuming the finished run appends and rewrites nothing
    before = snapshot(run_dir)
    capfd.readouterr()
    train(None, resume_dir=run_dir)  # type: ignore[arg-type]
    assert snapshot(run_dir) == before


def test_corrupt_truncated_and_incomplete_checkpoints_fall_back_to_the_newest_intact_one(tmp_path, reference,
                                                                                         capfd):
    run_dir = tmp_path / "run"
    # killed writing the metrics row of step 600: a torn last line, checkpoints 200 and 400
    kill_at("log", calls_left("log", 0) - 1, "train", str(SYNTHETIC), f"run_dir={run_dir}", *TINY)
    intact, truncated = list_checkpoints(run_dir / "checkpoints")
    truncated.write_bytes(truncated.read_bytes()[:1000])
    state = load_checkpoint(intact)
    del state["env"]
    torch.save(state, run_dir / "checkpoints" / "ckpt_0000000500.pt")  # the newest, incomplete
    with (run_dir / "evals.jsonl").open("a") as f:
        f.write('{"mean_success": 0.5, "per_ta')  # a torn evaluation row
    capfd.readouterr()
    train(None, resume_dir=run_dir)  # type: ignore[arg-type]
    err = capfd.readouterr().err
    assert "skipped checkpoint ckpt_0000000500.pt:" in err and "no env" in err
    assert "skipped checkpoint ckpt_0000000400.pt: corrupt checkpoint" in err
    assert err.count("partial last line") == 2
    assert_same_run(run_dir, reference)
    assert (run_dir / "checkpoints" / "ckpt_0000000500.pt.skipped").is_file()  # set aside, not deleted


def test_foreign_checkpoint_is_skipped_on_resume_and_refused_by_evaluate(tmp_path, reference, capfd):
    other = tmp_path / "other"
    train(load_config(SYNTHETIC, [f"run_dir={other}", *TINY, "train.total_steps_per_task=200", "seed=1"]))
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)  # a moved run: its config and checkpoints still agree on its run_dir
    eval_before = (run_dir / "eval.json").read_bytes()
    # the other run's checkpoint, copied in as the newest one
    shutil.copy(list_checkpoints(other / "checkpoints")[-1], run_dir / "checkpoints" / "ckpt_0000000800.pt")
    proc = run_cli("evaluate", str(run_dir), "--episodes", "1")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert "belongs to another run" in stderr and "seed" in stderr
    assert (run_dir / "eval.json").read_bytes() == eval_before

    capfd.readouterr()
    train(None, resume_dir=run_dir)  # type: ignore[arg-type]
    assert "skipped checkpoint ckpt_0000000800.pt:" in capfd.readouterr().err


def test_two_concurrent_resumes_one_runs_the_other_is_refused(tmp_path, reference):
    run_dir = tmp_path / "run"
    kill_at("update", 1, "train", str(SYNTHETIC), f"run_dir={run_dir}", *TINY)  # no checkpoint: a whole run left
    procs = [run_cli("train", "--resume", str(run_dir)) for _ in range(2)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert sorted(rc for rc, _ in results) == [0, 2], results
    refused = next(err for rc, err in results if rc == 2)
    assert len(refused.strip().splitlines()) == 1, refused
    winner = procs[[rc for rc, _ in results].index(0)].pid
    assert f"run directory {run_dir} is in use by pid {winner}" in refused
    assert_same_run(run_dir, reference)


def test_a_second_writer_is_refused_while_evaluate_or_train_holds_the_run(tmp_path, reference):
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    before = snapshot(run_dir)
    with run_dir_lock(run_dir, "mtrl evaluate"):
        for argv in (["evaluate", str(run_dir), "--episodes", "1"], ["train", "--resume", str(run_dir)]):
            proc = run_cli(*argv)
            _, stderr = proc.communicate(timeout=300)
            assert proc.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
            assert f"{run_dir} is in use by pid {os.getpid()}" in stderr and "mtrl evaluate" in stderr
        with pytest.raises(RunDirError, match="in use"):
            train(None, resume_dir=run_dir)  # type: ignore[arg-type]
    assert snapshot(run_dir) == before


class _OpensAFile:
    """Unpickling this calls ``open(marker, "w")``: code from the file runs and leaves a marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_checkpoint_carrying_code_is_refused_without_running_it(tmp_path, reference, capfd):
    from mtrl.interop.sb3 import SB3PolicyAdapter

    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    marker = tmp_path / "code-ran"
    state = load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
    state["payload"] = _OpensAFile(marker)
    evil = run_dir / "checkpoints" / "ckpt_0000000800.pt"
    torch.save(state, evil)

    with pytest.raises(CheckpointError, match="--trust-checkpoint"):
        load_checkpoint(evil)
    proc = run_cli("evaluate", str(evil), "--episodes", "1")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "safe load refuses" in stderr and len(stderr.strip().splitlines()) == 1, stderr
    with pytest.raises(CheckpointError, match="safe load refuses"):
        SB3PolicyAdapter.from_checkpoint(run_dir, task=0)
    capfd.readouterr()
    train(None, resume_dir=run_dir)  # type: ignore[arg-type]  # falls back to the newest safe checkpoint
    assert "skipped checkpoint ckpt_0000000800.pt:" in capfd.readouterr().err
    assert not marker.exists(), "loading the checkpoint ran code stored in it"
    set_aside = evil.with_name(evil.name + ".skipped")
    assert set_aside.is_file() and not evil.exists()
    load_checkpoint(set_aside, trusted=True)  # the explicit opt-in does unpickle it: the file really carries code
    assert marker.exists()


def test_format_1_checkpoints_load_only_when_trusted(tmp_path, reference, monkeypatch):
    import numpy as np

    state = load_checkpoint(list_checkpoints(reference / "checkpoints")[-1])
    numpy_rng = state["rng"]["numpy"]
    state["rng"]["numpy"] = (numpy_rng["kind"], numpy_rng["keys"].numpy().astype(np.uint32), numpy_rng["pos"],
                             numpy_rng["has_gauss"], numpy_rng["cached_gaussian"])  # as format 1 stored it
    state["format_version"] = 1
    old = tmp_path / "loose" / "ckpt_0000000600.pt"
    old.parent.mkdir()
    torch.save(state, old)
    with pytest.raises(CheckpointError, match="MTRL_TRUST_CHECKPOINT=1"):
        load_checkpoint(old)
    monkeypatch.setenv("MTRL_TRUST_CHECKPOINT", "1")
    assert load_checkpoint(old)["format_version"] == 1
    monkeypatch.delenv("MTRL_TRUST_CHECKPOINT")
    proc = run_cli("evaluate", str(old), "--episodes", "1", "--trust-checkpoint")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert json.loads((old.parent / "ckpt_0000000600.eval.json").read_text())["step"] == 600
    assert not (tmp_path / "eval.json").exists(), "a loose checkpoint's evaluation went two levels up"


def test_evaluate_writes_the_run_result_only_for_the_newest_checkpoint(tmp_path, reference):
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    recorded = (run_dir / "eval.json").read_bytes()
    older = run_dir / "checkpoints" / "ckpt_0000000200.pt"
    result = evaluate_run(older, episodes=1, verbose=False)
    assert result.step == 200
    assert (run_dir / "eval.json").read_bytes() == recorded, "an older checkpoint replaced the run's result"
    assert json.loads((run_dir / "checkpoints" / "ckpt_0000000200.eval.json").read_text())["step"] == 200
    assert list_checkpoints(run_dir / "checkpoints")[0] == older  # the result file is not taken for a checkpoint
    newest = evaluate_run(run_dir, episodes=1, verbose=False)
    assert json.loads((run_dir / "eval.json").read_text())["step"] == newest.step == 600

    loose = tmp_path / "loose" / "sub" / "m.pt"
    loose.parent.mkdir(parents=True)
    shutil.copy(older, loose)
    evaluate_run(loose, episodes=1, verbose=False)
    assert json.loads((loose.parent / "m.eval.json").read_text())["step"] == 200
    assert not (tmp_path / "loose" / "eval.json").exists()


def test_checkpoints_hold_only_tensors_and_plain_containers(reference):
    for ckpt in list_checkpoints(reference / "checkpoints"):
        assert torch.serialization.get_unsafe_globals_in_checkpoint(ckpt) == [], ckpt


def test_files_follow_the_umask(reference):
    mode = 0o666 & ~current_umask()
    for name in ("config.yaml", "env.json", "eval.json", "evals.jsonl", "metrics.jsonl",
                 "checkpoints/ckpt_0000000600.pt"):
        assert (reference / name).stat().st_mode & 0o777 == mode, name


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_sweep_workers_end_when_the_driver_dies(tmp_path):
    """What a Ray worker of `mtrl compare` runs (mtrl.compare.exit_when_process_ends), with a stand-in driver."""
    driver = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    worker = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from mtrl.compare import exit_when_process_ends\n"
                               f"exit_when_process_ends({driver.pid}, interval_s=0.2)\n"
                               "print('watching', flush=True)\ntime.sleep(120)"],
                              cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "watching"
    assert worker.poll() is None, "the worker must run while the driver does"
    driver.kill()
    driver.wait()
    assert worker.wait(timeout=10) == 3
