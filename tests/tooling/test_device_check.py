"""scripts/device_check.sh: the GPU check's steps run end to end on the CPU (``--dry-run``) and write the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.mark.slow
def test_device_check_dry_run_writes_a_complete_report(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["bash", "scripts/device_check.sh", "run", "--dry-run", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:], report)
    assert report["dry_run"] and report["ok"]
    steps = report["steps"]
    assert set(steps) == {"tests", "bench_update", "sync", "train"}
    rows = steps["bench_update"]["rows"]
    # every algorithm in both precisions, with the ratio to fp32 of the same run
    assert {(r["algo"], r["precision"]) for r in rows} == {(a, p) for a in ("mtsac", "mtppo") for p in ("fp32", "bf16")}
    assert all(r["x_fp32"] == 1.0 for r in rows if r["precision"] == "fp32")
    assert all(r["x_fp32"] > 0 for r in rows)
    assert steps["sync"]["update"].startswith("ran") and steps["sync"]["iteration"].startswith("ran")
    assert steps["train"]["rows"] >= 1 and steps["train"]["env_steps_per_s"] > 0


def test_device_check_usage_and_missing_wheels(tmp_path):
    usage = subprocess.run(["bash", "scripts/device_check.sh"], cwd=ROOT, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    # the real run refuses to start without the carried wheels, before installing anything
    env = {**os.environ, "PYTHON": sys.executable}
    if not any((ROOT / ".whl").glob("*.whl")):
        missing = subprocess.run(["bash", "scripts/device_check.sh", "run", str(tmp_path)], cwd=ROOT, env=env,
                                 capture_output=True, text=True)
        assert missing.returncode == 2 and "no wheels in .whl/" in missing.stdout
