"""``mtrl report --collect``: a finished run's small artefacts into ``results/<name>/``, never a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtrl.cli import main
from mtrl.errors import RunDirError
from mtrl.results import collect


def _run_dir(path: Path) -> Path:
    path.mkdir()
    (path / "config.yaml").write_text("name: r\n")
    (path / "eval.json").write_text(json.dumps({"mean_success": 0.5, "per_task": {"a": 0.5}}))
    (path / "evals.jsonl").write_text(json.dumps({"step": 10, "mean_success": 0.5}) + "\n")
    (path / "env.json").write_text("{}")
    (path / "run.json").write_text("{}")
    (path / "metrics.jsonl").write_text("{}\n")
    (path / "checkpoints").mkdir()
    (path / "checkpoints" / "step_10.pt").write_bytes(b"\0" * 100)
    return path


def test_collect_copies_the_small_artefacts_only(tmp_path):
    run = _run_dir(tmp_path / "run")
    assert main(["report", "--collect", str(run), str(tmp_path / "results" / "r")]) == 0
    copied = sorted(p.name for p in (tmp_path / "results" / "r").iterdir())
    assert copied == ["config.yaml", "env.json", "eval.json", "evals.jsonl", "run.json"]
    assert (tmp_path / "results" / "r" / "eval.json").read_text() == (run / "eval.json").read_text()


def test_collect_refuses_to_overwrite_and_writes_nothing(tmp_path):
    run = _run_dir(tmp_path / "run")
    dest = tmp_path / "r"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="already exists"):
        collect(run, dest)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_collect_refuses_unfinished_or_oversized_runs(tmp_path):
    run = _run_dir(tmp_path / "run")
    (run / "eval.json").unlink()
    with pytest.raises(RunDirError, match="lacks eval.json"):
        collect(run, tmp_path / "a")
    (run / "eval.json").write_text("{}")
    with pytest.raises(RunDirError, match="bytes"):
        collect(run, tmp_path / "b", max_bytes=10)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("status", ["running", "interrupted", "failed"])
def test_collect_refuses_a_run_that_has_not_finished_training(tmp_path, status):
    """A run still training has an eval.json (its latest evaluation): run.json's status tells it apart."""
    run = _run_dir(tmp_path / "run")
    (run / "run.json").write_text(json.dumps({"status": status, "env_steps_per_task": 10}))
    with pytest.raises(RunDirError, match=f"has not finished training \\(run.json status: {status}\\)"):
        collect(run, tmp_path / "results" / "r")
    assert not (tmp_path / "results").exists()
    (run / "run.json").write_text(json.dumps({"status": "finished", "env_steps_per_task": 10}))
    assert [p.name for p in collect(run, tmp_path / "results" / "r")][-1] == "run.json"


def test_collect_needs_two_paths(tmp_path, capsys):
    assert main(["report", "--collect", str(tmp_path)]) != 0
    assert "two paths" in capsys.readouterr().err
