"""``results/<name>/``: the small artefacts of a finished run kept in the repository (never a checkpoint).

:func:`collect` copies ``config.yaml``, ``env.json``, ``evals.jsonl``, ``eval.json`` and ``run.json`` from a run
directory; ``mtrl report`` reads such folders like run directories. :func:`load_published` reads
``docs/published.yaml``, the published numbers (each with its source) that the results page shows beside ours.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from envs.fields import FieldError, check_tree, param
from mtrl.errors import ConfigError, RunDirError

#: the files a result folder holds; run.json is optional (runs made before it existed lack it)
RESULT_FILES = ("config.yaml", "env.json", "evals.jsonl", "eval.json", "run.json")
REQUIRED_FILES = ("config.yaml", "eval.json")
MAX_RESULT_BYTES = 1_000_000  # a result folder stays small enough to commit


def collect(run_dir: Path, dest: Path, max_bytes: int = MAX_RESULT_BYTES) -> list[Path]:
    """Copy ``run_dir``'s small artefacts into ``dest`` (made; must not exist or be empty). Checks everything
    before writing: the run's required files exist, its run.json (if any) says it finished, and the copies fit in
    ``max_bytes``. Returns the copies."""
    if not run_dir.is_dir():
        raise RunDirError(f"run directory not found: {run_dir}")
    missing = [name for name in REQUIRED_FILES if not (run_dir / name).is_file()]
    if missing:
        raise RunDirError(f"{run_dir} is not a finished run: it lacks {', '.join(missing)}")
    status = _run_status(run_dir)
    if status not in (None, "finished"):
        raise RunDirError(f"{run_dir} has not finished training (run.json status: {status}); collect it when "
                          f"`mtrl train` has ended it")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RunDirError(f"{dest} already exists and is not an empty folder; choose another name")
    sources = [run_dir / name for name in RESULT_FILES if (run_dir / name).is_file()]
    size = sum(p.stat().st_size for p in sources)
    if size > max_bytes:
        raise RunDirError(f"the artefacts of {run_dir} take {size} bytes, over the {max_bytes} a result folder "
                          f"may hold")
    dest.mkdir(parents=True, exist_ok=True)
    copies = []
    for source in sources:
        copies.append(Path(shutil.copy2(source, dest / source.name)))
    return copies


def _run_status(run_dir: Path) -> str | None:
    """``run.json``'s status (running, finished, failed, interrupted); None for a run without one or one that
    predates the field."""
    path = run_dir / "run.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RunDirError(f"{path} is not valid JSON: {err}") from err
    return record.get("status") if isinstance(record, dict) else None


# ---------------------------------------------------------------------------------------- published numbers

#: the repository's published reference points (absent from an installed wheel: then the page has none)
DEFAULT_PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "published.yaml"


@dataclass
class PublishedResult:
    """One published final success rate, with enough of its source to check it."""

    method: str = param("", "the method as the paper names it (and its size, e.g. 'MTMHSAC 3x400')")
    benchmark: str = param("MT10", "the benchmark, named as in env.benchmark", choices=("MT10", "MT50", "MT1"))
    success: float = param(0.0, "mean success rate over tasks (fraction) as reported", range="[0, 1]")
    env_steps_per_task: int = param(2_000_000, "training budget in env steps per task", range="[1, inf)")
    source: str = param("", "the paper: authors, year, title, arXiv id or venue")
    where: str = param("", "where in the paper the number is (table or figure)")
    protocol: str = param("", "env version, reward version, episode length, evaluation, final or best")
    checked: str = param("", "what was confirmed against the paper, and what was taken from elsewhere")

    def check(self) -> None:
        for name in ("method", "source", "protocol"):
            if not getattr(self, name).strip():
                raise FieldError(name, f"{name} must not be empty")


@dataclass
class PublishedFile:
    """``docs/published.yaml``: the published points ``mtrl report`` shows beside ours."""

    references: list[PublishedResult] = param(factory=list, help="the published points")


def load_published(path: Path) -> list[PublishedResult]:
    """Read and validate a published-numbers file; :class:`~mtrl.errors.ConfigError` names the bad entry/field."""
    if not path.is_file():
        raise ConfigError(f"published numbers file not found: {path}")
    try:
        loaded = OmegaConf.load(path)
        merged = OmegaConf.merge(OmegaConf.structured(PublishedFile), loaded)
        published: PublishedFile = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None)
        raise ConfigError(f"invalid {path}: {str(err).splitlines()[0]}" + (f" (key: {key})" if key else "")) from err
    except Exception as err:  # yaml errors come in many types
        raise ConfigError(f"malformed {path}: {str(err).splitlines()[0]}") from err
    for index, entry in enumerate(published.references):
        try:
            check_tree(entry, f"references[{index}].")
        except ValueError as err:
            raise ConfigError(f"{path}: {str(err).splitlines()[0]}") from err
    return published.references


# ---------------------------------------------------------------------------------------------- the page


def _steps(steps: list[int]) -> str:
    return f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}-{steps[-1]:,}"


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.2f} h"


def results_page(summary: dict[str, Any], figures_dir: Path, page: Path, published: list[PublishedResult],
                 shown: dict[str, list[int]], statistics_md: str) -> str:
    """The results page (markdown) from :func:`mtrl.compare.report`'s ``summary``: a table with one row per
    method and benchmark, the learning curves and other figures in ``figures_dir`` (linked relative to
    ``page``), the ``published`` points with their sources (``shown``: per benchmark, the indices of those drawn
    in its curves), then the full statistics (``statistics_md``)."""
    link = Path(os.path.relpath(figures_dir.resolve(), page.resolve().parent)).as_posix()
    ks = sorted({k for row in summary["rows"] for k in row["worst_k"] if k != "1"}, key=int)
    out = ["# Results", "",
           "Generated by `mtrl report` from the result folders listed at the end; edit those, not this page.", "",
           "Final evaluation with the official protocol (50 episodes per task, one per goal; success = the flag "
           "was 1 at any step). Mean success is over tasks and seeds; IQM with its stratified-bootstrap 95% CI "
           "is given from 3 seeds on; worst task and worst-k are the mean success of each run's k worst tasks, "
           "averaged over seeds. A run still training (or stopped before its budget) is marked unfinished: its "
           "latest evaluation stands in for the final one.", "",
           "| method | benchmark | env steps per task | seeds | mean success | IQM [95% CI] | worst task | "
           + "".join(f"worst-{k} | " for k in ks) + "precision | wall-clock (mean) |",
           "| --- | --- | ---: | ---: | ---: | --- | ---: | " + "---: | " * len(ks) + "--- | ---: |"]
    for row in summary["rows"]:
        iqm = "-" if row["iqm"] is None else f"{row['iqm']:.3f} [{row['iqm_ci'][0]:.3f}, {row['iqm_ci'][1]:.3f}]"
        worst = "".join(f"{row['worst_k'][k]:.3f} | " if k in row["worst_k"] else "- | " for k in ks)
        unfinished = row.get("unfinished", 0)
        steps = _steps(row["env_steps_per_task"]) + (f" ({unfinished} unfinished)" if unfinished else "")
        out.append(f"| {row['method']} | {row['benchmark']} | {steps} | "
                   f"{len(row['seeds'])} | {row['mean_success']:.3f} | {iqm} | {row['worst_task']:.3f} | {worst}"
                   f"{row['precision']} | {_hours(row['wall_clock_s'])} |")
    for bench in summary["benchmarks"]:
        out += ["", f"## {bench}: learning curves", "",
                "Mean success over tasks at each evaluation, one line per method, band: bootstrap 95% CI over "
                "seeds. Black markers: published final results within the x-range.", "",
                f"![{bench} learning curves]({link}/curves_{bench}.png)", "",
                f"![{bench} final per-task success]({link}/per_task_{bench}.png)"]
    out += ["", f"![final success with 95% CIs]({link}/intervals.png)"]
    if published:
        out += ["", "## Published reference points", "",
                "| method | benchmark | success | env steps per task | in the figure | source | where | protocol | "
                "checked |", "| --- | --- | ---: | ---: | --- | --- | --- | --- | --- |"]
        for i, p in enumerate(published):
            drawn = "yes" if i in shown.get(p.benchmark, []) else "no (beyond the x-range)" \
                if p.benchmark in shown else "no (no run on it)"
            out.append(f"| {p.method} | {p.benchmark} | {p.success:.3f} | {p.env_steps_per_task:,} | {drawn} | "
                       f"{p.source} | {p.where} | {p.protocol} | {p.checked} |")
    out += ["", "## Statistics", ""]
    out += ["### " + line.lstrip("# ") if line.startswith("#") else line for line in statistics_md.splitlines()]
    out += ["", "## Result folders", ""]
    out += [f"- {row['method']}, {row['benchmark']}: " + ", ".join(f"`{d}`" for d in row["run_dirs"])
            for row in summary["rows"]]
    return "\n".join(out) + "\n"
