"""``mtrl report RESULTS --out docs/results``: the results page from hand-written result folders in the exact
format training writes (config.yaml, eval.json, evals.jsonl, run.json): its rows, numbers, figures and the
published points beside ours."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("rliable")
pytest.importorskip("matplotlib")

from scipy.stats import trim_mean  # noqa: E402

from mtrl.cli import main  # noqa: E402
from mtrl.config import load_config, to_yaml  # noqa: E402
from mtrl.evaluate import EvalResult, worst_k_success  # noqa: E402
from mtrl.runs.record import RunRecord  # noqa: E402
from tests.helpers import ROOT  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TASKS = [f"task{i}-v3" for i in range(10)]
STEPS = (100, 200, 300)


def _eval(rates: list[float], step: int, wall_clock_s: float) -> EvalResult:
    return EvalResult(mean_success=sum(rates) / len(rates), per_task=dict(zip(TASKS, rates, strict=True)),
                      mean_return=1.0, per_task_return=dict.fromkeys(TASKS, 1.0), episodes_per_task=50,
                      step=step, wall_clock_s=wall_clock_s, worst_k=worst_k_success(rates))


def write_result(folder: Path, config: str, seed: int, final: list[float], wall_clock_s: float,
                 status: str = "finished") -> None:
    """A result folder as `mtrl report --collect` copies it from a run: training's own writers where they are
    importable (config, evaluation rows, run.json), three evaluations, the last one ``final``."""
    cfg = load_config(ROOT / "configs" / config, [f"seed={seed}"])
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(to_yaml(cfg))
    evals = [_eval([r * step / STEPS[-1] for r in final], step, wall_clock_s * step / STEPS[-1]) for step in STEPS]
    (folder / "evals.jsonl").write_text("".join(json.dumps(e.to_json()) + "\n" for e in evals))
    (folder / "eval.json").write_text(json.dumps(evals[-1].to_json(), indent=2) + "\n")
    precision = cfg.agent.ppo.precision if cfg.agent.name == "mtppo" else cfg.agent.sac.precision
    record = RunRecord(folder, precision, torch.device("cpu"), 10)
    record.update(status, STEPS[-1], wall_clock_s)


def write_published(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps({"references": entries}))  # JSON is YAML
    return path


def point(**fields) -> dict:
    return {"method": "Ref SAC", "benchmark": "MT10", "success": 0.5, "env_steps_per_task": 250,
            "source": "Someone et al. (2025)", "where": "Table 1", "protocol": "official", "checked": "by hand",
            **fields}


@pytest.fixture
def results(tmp_path):
    rng = np.random.default_rng(0)
    finals = {}
    for seed in range(3):
        finals[("mt10-mtmhsac", seed)] = (rng.integers(0, 51, 10) / 50).tolist()
        write_result(tmp_path / "results" / f"mtmhsac-s{seed}", "mt10_mtmhsac.yaml", seed,
                     finals[("mt10-mtmhsac", seed)], 3600.0 * (seed + 1))
    finals[("mt10-mtppo", 0)] = (rng.integers(0, 51, 10) / 50).tolist()
    write_result(tmp_path / "results" / "mtppo-s0", "mt10_mtppo.yaml", 0, finals[("mt10-mtppo", 0)], 1800.0)
    return tmp_path / "results", finals


def table_rows(page: str) -> dict[str, dict[str, str]]:
    lines = page.split("| method | benchmark | env steps per task")[1].split("\n\n")[0].splitlines()
    header = ["method", "benchmark", "env steps per task"] + [c.strip() for c in lines[0].split("|")[1:-1]]
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in lines[2:]]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_results_page_rows_numbers_figures_and_published_points(results, tmp_path):
    folder, finals = results
    published = write_published(tmp_path / "published.yaml", [point(), point(env_steps_per_task=2_000_000,
                                                                              method="Big SAC")])
    out = tmp_path / "docs" / "results"
    assert main(["report", str(folder), "--out", str(out), "--published", str(published),
                 "--bootstrap-reps", "100"]) == 0
    page = (tmp_path / "docs" / "results.md").read_text()
    rows = table_rows(page)
    assert set(rows) == {"mt10-mtmhsac", "mt10-mtppo"}

    sac = np.array([finals[("mt10-mtmhsac", s)] for s in range(3)])  # (seeds, tasks)
    row = rows["mt10-mtmhsac"]
    assert row["env steps per task"] == "300" and row["seeds"] == "3" and row["benchmark"] == "MT10"
    assert float(row["mean success"]) == pytest.approx(sac.mean(), abs=5e-4)
    iqm, lo, hi = map(float, re.fullmatch(r"([\d.]+) \[([\d.]+), ([\d.]+)\]", row["IQM [95% CI]"]).groups())
    assert iqm == pytest.approx(trim_mean(sac.ravel(), 0.25), abs=5e-4) and lo <= iqm <= hi
    assert float(row["worst task"]) == pytest.approx(sac.min(axis=1).mean(), abs=5e-4)
    assert float(row["worst-3"]) == pytest.approx(np.sort(sac, axis=1)[:, :3].mean(), abs=5e-4)
    assert row["precision"] == load_config(ROOT / "configs" / "mt10_mtmhsac.yaml").agent.sac.precision
    assert row["wall-clock (mean)"] == "2.00 h"  # mean of 1, 2 and 3 hours

    ppo = np.array(finals[("mt10-mtppo", 0)])
    row = rows["mt10-mtppo"]
    assert row["seeds"] == "1" and row["IQM [95% CI]"] == "-"  # no IQM below 3 seeds
    assert float(row["mean success"]) == pytest.approx(ppo.mean(), abs=5e-4)
    assert float(row["worst task"]) == pytest.approx(ppo.min(), abs=5e-4)
    assert row["wall-clock (mean)"] == "0.50 h"

    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", page)
    assert {Path(link).name for link in links} == {"curves_MT10.png", "per_task_MT10.png", "intervals.png"}
    for link in links:
        data = (tmp_path / "docs" / link).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5000, link

    published_rows = page.split("## Published reference points")[1].split("\n## ")[0]
    assert "| Ref SAC | MT10 | 0.500 | 250 | yes | Someone et al. (2025) | Table 1 |" in published_rows
    assert "| Big SAC | MT10 | 0.500 | 2,000,000 | no (beyond the x-range) |" in published_rows


def test_a_run_still_training_is_marked_unfinished(tmp_path, capsys):
    folder = tmp_path / "results"
    write_result(folder / "mtmhsac-s0", "mt10_mtmhsac.yaml", 0, [0.5] * 10, 900.0)
    write_result(folder / "mtppo-s0", "mt10_mtppo.yaml", 0, [0.5] * 10, 900.0, status="running")
    out = tmp_path / "docs" / "results"
    assert main(["report", str(folder), "--out", str(out), "--bootstrap-reps", "10", "--published", "none"]) == 0
    rows = table_rows((tmp_path / "docs" / "results.md").read_text())
    assert rows["mt10-mtppo"]["env steps per task"] == "300 (1 unfinished)"
    assert rows["mt10-mtmhsac"]["env steps per task"] == "300"
    printed = capsys.readouterr().out
    assert f"note: {folder / 'mtppo-s0'} is running at 300 env steps per task" in printed
    assert "mtmhsac-s0 is" not in printed


def test_the_repository_published_numbers_load_with_their_sources():
    from mtrl.results import DEFAULT_PUBLISHED, load_published

    points = load_published(DEFAULT_PUBLISHED)
    mtmhsac = {p.benchmark: p.success for p in points if p.method.startswith("MTMHSAC 3x400")}
    assert mtmhsac == {"MT10": 0.748, "MT50": 0.549}
    assert all("2503.05126" in p.source and p.protocol and p.checked for p in points)


@pytest.mark.parametrize(("entry", "message"), [
    (point(success=1.5), "references[0].success"),
    (point(source=" "), "references[0].source"),
    (point(year=2025), "year"),
])
def test_a_bad_published_file_is_refused_before_anything_is_written(results, tmp_path, capsys, entry, message):
    folder, _ = results
    published = write_published(tmp_path / "published.yaml", [entry])
    out = tmp_path / "docs" / "results"
    assert main(["report", str(folder), "--out", str(out), "--published", str(published)]) != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "docs").exists()


def test_two_runs_with_one_label_and_seed_are_refused(results, tmp_path, capsys):
    folder, finals = results
    write_result(folder / "again", "mt10_mtppo.yaml", 0, finals[("mt10-mtppo", 0)], 60.0)
    assert main(["report", str(folder), "--out", str(tmp_path / "out"), "--published", "none"]) != 0
    err = capsys.readouterr().err
    assert "mt10-mtppo" in err and "--method-keys" in err
    assert not (tmp_path / "out").exists()


def test_an_unreadable_run_json_names_the_file(results, tmp_path, capsys):
    folder, _ = results
    (folder / "mtppo-s0" / "run.json").write_text('{"precision": ')
    assert main(["report", str(folder), "--out", str(tmp_path / "out"), "--published", "none"]) != 0
    assert "mtppo-s0/run.json" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
