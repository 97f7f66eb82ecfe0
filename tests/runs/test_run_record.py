"""``run.json`` (machine, device, precision, commit, wall-clock, env steps/s, status) and the wall-clock in
``evals.jsonl``, written by training; a resumed run adds a sitting and keeps counting the wall-clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mtrl import train as train_module
from mtrl.config import load_config
from mtrl.runs.layout import RUN_FILE
from mtrl.runs.record import RunRecord
from mtrl.train import train
from tests.helpers import SYNTHETIC, training_interrupted_at

# 2 episodes of 50 steps per task, evaluated after each
TINY = ["train.total_steps_per_task=100", "train.random_steps_per_task=50", "train.log_every=50",
        "train.checkpoint_every=50", "train.eval_every=50", "train.eval_episodes=2", "train.progress=false",
        "agent.sac.actor.hidden_sizes=[16]", "agent.sac.critic.hidden_sizes=[16]",
        "agent.sac.batch_size_per_task=8", "env.eval_envs_per_task=2", "env.synthetic_num_tasks=2"]


def test_training_writes_run_json_and_timed_evals(tmp_path):
    run_dir, _ = train(load_config(SYNTHETIC, [f"run_dir={tmp_path / 'run'}", *TINY]))
    record = json.loads((run_dir / RUN_FILE).read_text())
    assert record["status"] == "finished"
    assert record["env_steps_per_task"] == 100
    assert record["device"] == "cpu" and record["torch"] == torch.__version__
    assert record["cpu_count"] >= record["cpu_usable"] >= 1
    assert record["precision"] == "fp32"
    assert record["wall_clock_s"] > 0
    # env steps/s is the steps over the unrounded wall-clock; run.json rounds the wall-clock to 1 ms and the rate
    # to 0.01 steps/s, so their product is 200 env steps up to those two roundings
    rate, clock = record["env_steps_per_s"], record["wall_clock_s"]
    assert abs(rate * clock - 100 * 2) <= rate * 0.0006 + clock * 0.006
    assert len(record["sessions"]) == 1 and record["sessions"][0]["status"] == "finished"
    rows = [json.loads(line) for line in (run_dir / "evals.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [50, 100]
    assert all(len(r["per_task"]) == 2 and all(0.0 <= v <= 1.0 for v in r["per_task"].values()) for r in rows)
    assert 0 < rows[0]["wall_clock_s"] <= rows[1]["wall_clock_s"] <= record["wall_clock_s"]


def test_interrupted_then_resumed_run_records_both_sittings(tmp_path):
    with training_interrupted_at(50), pytest.raises(KeyboardInterrupt):  # like Ctrl-C
        train(load_config(SYNTHETIC, [f"run_dir={tmp_path / 'run'}", *TINY]))
    first = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    assert first["status"] == "interrupted" and first["env_steps_per_task"] == 50
    train(None, resume_dir=tmp_path / "run")
    record = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    assert record["status"] == "finished" and record["started"] == first["started"]
    assert [s["status"] for s in record["sessions"]] == ["interrupted", "finished"]
    rows = [json.loads(line) for line in (tmp_path / "run" / "evals.jsonl").read_text().splitlines()]
    # the second sitting starts from the checkpoint's wall-clock, so the clock never runs backwards
    assert rows[-1]["step"] == 100 and rows[-1]["wall_clock_s"] >= rows[0]["wall_clock_s"]


def test_unreadable_run_json_on_resume_is_rebuilt(tmp_path):
    (tmp_path / RUN_FILE).write_text("{not json")
    record = RunRecord(tmp_path, "fp32", torch.device("cpu"), num_tasks=3, resume=True)
    record.update("running", 10, 2.0)
    data = json.loads((tmp_path / RUN_FILE).read_text())
    assert data["env_steps_per_s"] == 15.0 and len(data["sessions"]) == 1


def test_bad_status_is_an_error_and_nothing_is_written(tmp_path):
    record = RunRecord(tmp_path, "fp32", torch.device("cpu"), num_tasks=1)
    with pytest.raises(ValueError, match="run status"):
        record.update("done", 1, 1.0)
    assert not (tmp_path / RUN_FILE).exists()


@pytest.mark.filterwarnings("ignore:precision bf16")
def test_the_agents_precision_is_recorded(tmp_path):
    run_dir, _ = train(load_config(SYNTHETIC, [f"run_dir={tmp_path / 'run'}", *TINY, "agent.sac.precision=bf16",
                                               "train.total_steps_per_task=50", "train.eval_every=0"]))
    assert json.loads((run_dir / RUN_FILE).read_text())["precision"] == "bf16"
