"""``logger.wandb``: a short synthetic run logged to Weights & Biases in offline mode (no network) writes the same
scalars as metrics.jsonl; a resumed run continues the same W&B run; wandb is not imported when it is off."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mtrl.config import load_config
from mtrl.errors import ConfigError, RunDirError
from tests.helpers import ROOT

SHORT = ["train.progress=false", "train.total_steps_per_task=300", "train.random_steps_per_task=100",
         "train.log_every=100", "train.eval_every=200", "train.eval_episodes=2", "train.checkpoint_every=200",
         "agent.sac.actor.hidden_sizes=[16]", "agent.sac.critic.hidden_sizes=[16]", "agent.sac.batch_size_per_task=16",
         "env.synthetic_num_tasks=2", "env.eval_envs_per_task=2"]


def read_wandb_file(path: Path) -> list:
    """The records of a ``.wandb`` file (wandb 0.31 ships no Python reader for it: the transaction log is the
    LevelDB log format behind a 7-byte ``:W&B`` header, 32 KiB blocks of chunks with a 7-byte header (CRC32,
    length, type: 1 full, 2 first, 3 middle, 4 last); each record a ``wandb_internal_pb2.Record``)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", path
    records, pending, offset, block = [], b"", 7, 32768
    while offset + 7 <= len(data):
        if block - offset % block < 7:  # a block's trailer too short for a chunk header is padding
            offset += block - offset % block
            continue
        _, length, kind = struct.unpack("<IHB", data[offset:offset + 7])
        chunk = data[offset + 7:offset + 7 + length]
        offset += 7 + length
        if kind == 0 and length == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def wandb_history(wandb_dir: Path) -> tuple[list[dict[str, float]], set[str]]:
    """Every history row logged to the offline runs under ``wandb_dir`` (all sittings, in order) and the run ids."""
    rows, ids = [], set()
    for path in sorted(wandb_dir.rglob("*.wandb"), key=lambda p: p.parent.name):
        for record in read_wandb_file(path):
            if record.WhichOneof("record_type") == "run":
                ids.add(record.run.run_id)
            if record.WhichOneof("record_type") == "history":
                row = {item.key or "/".join(item.nested_key): json.loads(item.value_json)
                       for item in record.history.item}
                rows.append({k: v for k, v in row.items() if not k.startswith("_")})
    return rows, ids


def metrics_rows(run_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb_dir"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "wandb_dir").mkdir()
    return tmp_path / "wandb_dir"


def test_offline_wandb_run_holds_the_metrics_jsonl_scalars_and_resume_continues_it(tmp_path, offline):
    from mtrl.train import train

    run_dir = tmp_path / "run"
    cfg = load_config(ROOT / "configs" / "synthetic.yaml",
                      [*SHORT, f"run_dir={run_dir}", "logger.wandb.project=mtrl-test", "logger.wandb.mode=offline",
                       "train.total_steps_per_task=200"])
    train(cfg)
    first_id = json.loads((run_dir / "wandb.json").read_text())["id"]
    # a second sitting: raise the budget and resume; W&B must continue the same run
    text = (run_dir / "config.yaml").read_text().replace("total_steps_per_task: 200", "total_steps_per_task: 300")
    (run_dir / "config.yaml").write_text(text)
    train(None, resume_dir=run_dir)  # type: ignore[arg-type]

    rows, ids = wandb_history(offline)
    assert ids == {first_id} and json.loads((run_dir / "wandb.json").read_text())["id"] == first_id
    logged = {}  # the last row logged at each (step, key): a resumed sitting logs again after its checkpoint
    for row in rows:
        for key, value in row.items():
            logged[(row["env_steps_per_task"], key)] = value
    expected = metrics_rows(run_dir)
    assert {r["step"] for r in expected} == {100, 200, 300}
    for row in expected:
        for key, value in row.items():
            if key != "step":
                assert logged[(row["step"], key)] == pytest.approx(value, rel=1e-6, abs=1e-9), (row["step"], key)
    assert any(key == "eval/mean_success" for _, key in logged)
    records = [r for path in offline.rglob("*.wandb") for r in read_wandb_file(path)]
    config = {item.key: json.loads(item.value_json) for r in records for item in
              (r.run.config.update if r.WhichOneof("record_type") == "run" else
               r.config.update if r.WhichOneof("record_type") == "config" else [])}
    assert config["seed"] == 0 and config["logger"]["wandb"]["project"] == "mtrl-test"


def test_wandb_is_not_imported_when_it_is_off(tmp_path):
    code = f"""
import sys
from pathlib import Path
from mtrl.config import load_config
from mtrl.train import train
cfg = load_config({str(ROOT / 'configs' / 'synthetic.yaml')!r}, {[*SHORT, f'run_dir={tmp_path / "run"}']!r})
train(cfg)
print("WANDB_IMPORTED" if "wandb" in sys.modules else "WANDB_NOT_IMPORTED")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert "WANDB_NOT_IMPORTED" in done.stdout, done.stderr[-2000:]
    assert not (tmp_path / "run" / "wandb.json").exists()


def test_wandb_needs_the_extra_and_a_project_name(monkeypatch):
    import importlib.util

    with pytest.raises(ConfigError, match="logger.wandb.project"):
        load_config(None, ["logger.wandb.project=' '"])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(ConfigError, match=r"logger.wandb.project: .*mtrl\[wandb\]"):
        load_config(None, ["logger.wandb.project=p"])
    with pytest.raises(ConfigError, match="logger.wandb.mode"):
        load_config(None, ["logger.wandb.mode=sometimes"])


def test_a_wandb_start_failure_is_one_clear_error(tmp_path, offline, monkeypatch):
    import wandb

    from mtrl.runs.logger import WandbWriter

    def no_network(**kwargs):
        raise wandb.errors.CommError("network unreachable")

    monkeypatch.setattr(wandb, "init", no_network)
    with pytest.raises(RunDirError, match=r"logger.wandb: W&B could not start .*network unreachable.*offline"):
        WandbWriter(tmp_path, "p", "online", None, {}, "run")
    assert not (tmp_path / "wandb.json").exists()
    (tmp_path / "wandb.json").write_text("{not json")
    with pytest.raises(RunDirError, match="wandb.json does not hold a W&B run id"):
        WandbWriter(tmp_path, "p", "offline", None, {}, "run")
