"""Tail-task metrics: worst-k success in eval.json and in the compare/report summary, on hand-made evaluations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtrl.config import load_config, to_yaml
from mtrl.evaluate import EvalResult, worst_k_success
from tests.helpers import SYNTHETIC


def test_worst_k_of_a_hand_made_evaluation():
    rates = [0.9, 0.1, 1.0, 0.5, 0.0, 0.8, 1.0, 0.3, 0.6, 0.7]  # sorted: 0, .1, .3, .5, .6, .7, .8, .9, 1, 1
    worst = worst_k_success(rates)
    assert worst == pytest.approx({"1": 0.0, "3": (0.0 + 0.1 + 0.3) / 3, "5": 1.5 / 5})  # no k=10: k < T only
    assert worst_k_success([0.2, 0.4]) == {"1": 0.2}
    assert worst_k_success([1.0]) == {}
    result = EvalResult(mean_success=sum(rates) / 10, per_task={f"t{i}": r for i, r in enumerate(rates)},
                        mean_return=0.0, per_task_return={}, episodes_per_task=50, worst_k=worst)
    on_disk = json.loads(json.dumps(result.to_json()))
    assert on_disk["worst_k"] == pytest.approx(worst) and len(on_disk["per_task"]) == 10


def _fake_run(root: Path, name: str, method: str, seed: int, rates: list[float]) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    cfg = load_config(SYNTHETIC, [f"surgery.name={method}", f"seed={seed}"])
    (run_dir / "config.yaml").write_text(to_yaml(cfg))
    per_task = {f"task{i:02d}": r for i, r in enumerate(rates)}
    (run_dir / "eval.json").write_text(json.dumps({"per_task": per_task, "step": 1000}))
    return run_dir


def test_report_summary_has_worst_k_with_confidence_intervals(tmp_path):
    pytest.importorskip("rliable")
    from mtrl.compare import report

    good = [[1.0, 0.9, 0.8, 0.2, 1.0, 1.0], [1.0, 1.0, 0.6, 0.4, 1.0, 0.8]]
    bad = [[0.0, 0.5, 0.5, 0.5, 0.5, 0.5], [0.1, 0.5, 0.5, 0.5, 0.5, 0.3]]
    runs = [_fake_run(tmp_path, f"pc{s}", "pcgrad", s, r) for s, r in enumerate(good)]
    runs += [_fake_run(tmp_path, f"mean{s}", "mean", s, r) for s, r in enumerate(bad)]
    lines: list[str] = []
    summary = report(runs, tmp_path / "report", reps=200, emit=lines.append)
    (bench,) = summary["aggregate"]
    pcgrad = next(v for m, v in summary["aggregate"][bench].items() if "pcgrad" in m)
    assert set(pcgrad["worst_k"]) == {"1", "3", "5"}  # 6 tasks: k = 10 is not below T
    expected_worst_1 = (0.2 + 0.4) / 2  # each run's worst task, averaged over the two seeds
    expected_worst_3 = ((0.2 + 0.8 + 0.9) / 3 + (0.4 + 0.6 + 0.8) / 3) / 2
    assert pcgrad["worst_k"]["1"]["value"] == pytest.approx(expected_worst_1)
    assert pcgrad["worst_k"]["3"]["value"] == pytest.approx(expected_worst_3)
    for entry in pcgrad["worst_k"].values():
        low, high = entry["ci"]
        assert low <= entry["value"] + 1e-12 and entry["value"] <= high + 1e-12 and low < high
    text = "\n".join(lines)
    assert "Worst-k tasks" in text and "worst-1" in text and "worst-5" in text
    saved = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert saved["aggregate"][bench] == summary["aggregate"][bench]
