"""``mtrl compare``: a grid of training runs on Ray, then statistics a paper can use.

A compare config names a base training config, overrides for every run, and a grid ``{key: [values]}``
(surgery methods x architectures x seeds x benchmarks, any config key). Every cell is an ordinary training run
with its own run directory under ``SWEEP_DIR/runs/``. Cells run in parallel on a local Ray instance (or an
existing cluster with ``--address``); the sweep is resumable: finished runs are skipped, interrupted ones resume
from their checkpoints, a failed run is reported with its error and does not stop the others.

The report (:func:`report`, also ``mtrl report RUN_DIRS...``) aggregates the runs' ``eval.json`` with rliable
(Agarwal et al. 2021): per method and benchmark the interquartile mean and mean of final success over seeds and
tasks with stratified-bootstrap 95% confidence intervals, probability of improvement between methods, per-task
success tables; it writes ``results.csv``, ``summary.md`` and PNG figures.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mtrl.errors import ConfigError, RunDirError

STATUS_FILE = "status.json"


@dataclass
class CompareConfig:
    """A sweep: a base training config, shared overrides and a grid."""

    name: str = "sweep"  # sweep name; default directory runs/sweeps/<name>
    base: str = ""  # base training config (path relative to this file, or to the working directory)
    overrides: list[str] = field(default_factory=list)  # key=value overrides applied to every run
    grid: dict[str, list[Any]] = field(default_factory=dict)  # config key -> values; the grid is their product
    method_keys: list[str] = field(default_factory=lambda: ["surgery.name"])  # keys whose values name a method
    sweep_dir: str | None = None  # where runs and reports go
    cpus_per_run: float = 1.0  # Ray CPUs reserved per run (also torch threads per run)
    gpus_per_run: float = 0.0  # Ray GPUs per run; fractions share a GPU (e.g. 0.25: four runs per GPU)
    bootstrap_reps: int = 2000  # stratified-bootstrap resamples for the confidence intervals


def load_compare_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[CompareConfig, Path]:
    """Load a compare config; returns it and the resolved path of its base training config."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"compare config not found: {path}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(CompareConfig), OmegaConf.load(path),
                                 OmegaConf.from_dotlist(list(overrides)))
        cfg: CompareConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as err:
        raise ConfigError(f"invalid compare config {path}: {str(err).splitlines()[0]}") from err
    except Exception as err:
        raise ConfigError(f"malformed compare config {path}: {str(err).splitlines()[0]}") from err
    if not cfg.base:
        raise ConfigError(f"{path}: 'base' must name a training config")
    from mtrl.config import resolve_base

    base = resolve_base(path, cfg.base)
    if not base.is_file():
        raise ConfigError(f"{path}: base config {cfg.base} not found")
    for key, values in cfg.grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: grid.{key} must be a non-empty list")
    return cfg, base


@dataclass
class Cell:
    """One run of the grid."""

    name: str  # directory name, e.g. surgery.name=pcgrad,seed=1
    overrides: list[str]
    run_dir: Path


def _format_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def grid_cells(cfg: CompareConfig, sweep_dir: Path) -> list[Cell]:
    keys = list(cfg.grid)
    cells = []
    for values in itertools.product(*(cfg.grid[k] for k in keys)):
        pairs = [f"{k}={_format_value(v)}" for k, v in zip(keys, values, strict=True)]
        name = re.sub(r"[^A-Za-z0-9_.=,+-]", "_", ",".join(pairs)) or "default"
        run_dir = sweep_dir / "runs" / name
        cells.append(Cell(name, [*cfg.overrides, *pairs, f"run_dir={run_dir}"], run_dir))
    return cells


def read_status(run_dir: Path) -> dict[str, Any]:
    path = run_dir / STATUS_FILE
    return json.loads(path.read_text()) if path.is_file() else {"state": "pending"}


def _write_status(run_dir: Path, status: dict[str, Any]) -> None:
    from mtrl.runs.checkpoint import atomic_write_text

    atomic_write_text(json.dumps(status) + "\n", run_dir / STATUS_FILE)


def exit_when_process_ends(pid: int, interval_s: float = 2.0) -> threading.Thread:
    """End this process (``os._exit``, like ``kill -9``: run directories stay resumable) soon after process
    ``pid`` ends. A sweep's Ray workers run this on the driver, so no run goes on training (and writing
    checkpoints) after the sweep was killed; the run-dir lock dies with the worker."""
    from mtrl.runs.lock import process_alive

    def watch() -> None:
        while process_alive(pid):
            time.sleep(interval_s)
        os._exit(3)

    thread = threading.Thread(target=watch, name=f"exit-when-{pid}-ends", daemon=True)
    thread.start()
    return thread


def run_cell(base: str, overrides: list[str], run_dir: str, threads: int,
             driver: tuple[str, int] | None = None) -> dict[str, Any]:
    """Train one cell (resuming it if it has checkpoints). Runs inside a Ray worker; never raises.

    ``driver``: ``(host, pid)`` of the sweep's driver; on the same host the worker ends when the driver does
    (on another host, Ray's own job cleanup ends it).
    """
    import torch

    if driver is not None and driver[0] == socket.gethostname():
        exit_when_process_ends(driver[1])

    from mtrl.config import load_config
    from mtrl.runs.checkpoint import list_checkpoints
    from mtrl.runs.layout import CHECKPOINT_DIR
    from mtrl.train import train

    torch.set_num_threads(max(1, threads))
    path = Path(run_dir)
    try:
        if list_checkpoints(path / CHECKPOINT_DIR):
            _, result = train(None, resume_dir=path)  # type: ignore[arg-type]
        else:
            if path.exists():  # started but died before its first checkpoint: start over
                for child in sorted(path.rglob("*"), reverse=True):
                    child.unlink() if child.is_file() else child.rmdir()
            _, result = train(load_config(base, overrides))
        status = {"state": "done", "mean_success": result.mean_success}
    except BaseException as err:  # noqa: BLE001 - a failed run is reported, the sweep goes on
        path.mkdir(parents=True, exist_ok=True)
        status = {"state": "failed", "error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc()[-4000:]}
    _write_status(path, status)
    return status


def _last_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return 0
    for line in reversed(path.read_text().splitlines()):
        try:  # a run killed mid-write leaves a partial last line
            return int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


def sweep(config_path: str | Path, overrides: list[str] | tuple[str, ...] = (), address: str | None = None,
          sweep_dir: str | Path | None = None, emit: Any = print) -> Path:
    """Run (or continue) the sweep, then write the report. Returns the sweep directory."""
    cfg, base = load_compare_config(config_path, overrides)
    root = Path(sweep_dir or cfg.sweep_dir or Path("runs") / "sweeps" / cfg.name)
    root.mkdir(parents=True, exist_ok=True)
    cells = grid_cells(cfg, root)
    # validate every cell's config before starting anything
    from mtrl.config import load_config

    for cell in cells:
        load_config(base, [o for o in cell.overrides if not o.startswith("run_dir=")])
    todo = [c for c in cells if read_status(c.run_dir)["state"] != "done"]
    emit(f"sweep {cfg.name}: {len(cells)} runs, {len(cells) - len(todo)} already done, {len(todo)} to run -> {root}")
    if todo:
        import ray

        ray.init(address=address, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                 logging_level="ERROR")
        try:
            remote = ray.remote(num_cpus=cfg.cpus_per_run, num_gpus=cfg.gpus_per_run, max_retries=0)(run_cell)
            driver = (socket.gethostname(), os.getpid())
            pending = {remote.remote(str(base), c.overrides, str(c.run_dir), int(cfg.cpus_per_run), driver): c
                       for c in todo}
            done = len(cells) - len(todo)
            failed = 0
            while pending:
                ready, _ = ray.wait(list(pending), timeout=10.0)
                for ref in ready:
                    cell = pending.pop(ref)
                    status = ray.get(ref)
                    if status["state"] == "done":
                        done += 1
                        emit(f"  done   {cell.name}: mean success {status['mean_success']:.2f}")
                    else:
                        failed += 1
                        emit(f"  FAILED {cell.name}: {status['error']}")
                steps = ", ".join(f"{c.name}@{_last_step(c.run_dir)}" for c in pending.values())
                emit(f"[{time.strftime('%H:%M:%S')}] done {done} / running {len(pending)} / failed {failed}"
                     + (f"  ({steps})" if steps else ""))
        finally:
            ray.shutdown()
    failed_cells = [c for c in cells if read_status(c.run_dir)["state"] == "failed"]
    finished = [c.run_dir for c in cells if read_status(c.run_dir)["state"] == "done"]
    if finished:
        report(finished, root, method_keys=cfg.method_keys, reps=cfg.bootstrap_reps, emit=emit)
    if failed_cells:
        emit(f"{len(failed_cells)} run(s) failed; see status.json in: "
             + ", ".join(str(c.run_dir) for c in failed_cells))
    return root


# ---------------------------------------------------------------------------------------------- report


@dataclass
class ReportedRun:
    """One run (or result folder) as ``mtrl report`` reads it: its latest evaluation and its curve."""

    run_dir: Path
    method: str
    benchmark: str
    seed: int
    per_task: dict[str, float]
    step: int
    curve: list[tuple[int, float]]  # (step, mean success) of every evaluation
    precision: str = "-"  # the agent's precision as run.json records it ("-": no run.json)
    wall_clock_s: float | None = None  # training wall-clock of all sittings, from run.json
    status: str | None = None  # run.json's status (running, finished, failed, interrupted); None: no run.json

    @property
    def unfinished(self) -> bool:
        """True when run.json says training has not finished: then ``per_task`` is the latest evaluation, not a
        final one."""
        return self.status not in (None, "finished")


def _get(cfg: Any, dotted: str) -> Any:
    node = cfg
    for part in dotted.split("."):
        node = getattr(node, part) if not isinstance(node, dict) else node[part]
    return node


def load_run(run_dir: Path, method_keys: list[str]) -> ReportedRun:
    from mtrl.config import from_yaml_text

    config_path, eval_path = run_dir / "config.yaml", run_dir / "eval.json"
    if not config_path.is_file() or not eval_path.is_file():
        raise RunDirError(f"{run_dir} is not a finished run (needs config.yaml and eval.json)")
    cfg = from_yaml_text(config_path.read_text())
    method = ",".join(str(_get(cfg, k)) for k in method_keys)
    if cfg.surgery.label() != "mean" and "surgery.name" not in method_keys:
        method = f"{method},{cfg.surgery.label()}"
    evaluation = json.loads(eval_path.read_text())
    curve = []
    history = run_dir / "evals.jsonl"
    if history.is_file():
        curve = [(row["step"], row["mean_success"]) for row in map(json.loads, history.read_text().splitlines())]
    precision, wall_clock, status = "-", None, None
    run_json = run_dir / "run.json"
    if run_json.is_file():
        try:
            run_info = json.loads(run_json.read_text())
        except json.JSONDecodeError as err:
            raise RunDirError(f"{run_json} is not valid JSON: {err}") from err
        precision = str(run_info.get("precision", "-"))
        wall_clock = run_info.get("wall_clock_s")
        status = run_info.get("status")
    return ReportedRun(run_dir, method, cfg.env.benchmark, cfg.seed, evaluation["per_task"],
                     int(evaluation.get("step") or 0), curve, precision, wall_clock, status)


def expand_run_dirs(paths: list[Path]) -> list[Path]:
    """Run directories from ``paths``: a run or result folder (it holds config.yaml) as it is, a folder of them
    (e.g. ``results/``) as its subfolders that hold one."""
    dirs: list[Path] = []
    for path in paths:
        if (path / "config.yaml").is_file() or not path.is_dir():
            dirs.append(path)
            continue
        children = sorted(p for p in path.iterdir() if (p / "config.yaml").is_file())
        if not children:
            raise RunDirError(f"{path} is neither a run directory nor a folder of runs (no config.yaml in it or "
                              f"its subfolders)")
        dirs += children
    return dirs


def _check_unique(records: list[ReportedRun]) -> None:
    """Two runs with the same method label, benchmark and seed would be averaged as one: refuse."""
    seen: dict[tuple[str, str, int], Path] = {}
    for r in records:
        key = (r.method, r.benchmark, r.seed)
        if key in seen:
            raise RunDirError(f"{seen[key]} and {r.run_dir} are both method {r.method!r}, {r.benchmark}, seed "
                              f"{r.seed}; name their methods apart with --method-keys (e.g. name agent.name)")
        seen[key] = r.run_dir


def report(run_dirs: list[Path], out_dir: Path, method_keys: list[str] | None = None, reps: int = 2000,
           emit: Any = print, page: Path | None = None, published: list[Any] | None = None) -> dict[str, Any]:
    """Aggregate finished runs into ``results.csv``, ``summary.md``, ``summary.json`` and figures in
    ``out_dir``. Returns the summary dict.

    ``page``: also write the results page there (:func:`mtrl.results.results_page`: one row per method and
    benchmark, the figures linked, ``published`` reference points (:class:`mtrl.results.PublishedResult`)
    beside ours, as markers in the learning curves where they fall within the x-range and in a table)."""
    import numpy as np
    from rliable import metrics

    from mtrl.evaluate import WORST_K

    records = [load_run(Path(d), method_keys or ["surgery.name"]) for d in run_dirs]
    if not records:
        raise RunDirError("no runs to report on")
    _check_unique(records)
    for r in records:
        if r.unfinished:
            emit(f"note: {r.run_dir} is {r.status} at {r.step:,} env steps per task: its numbers are its latest "
                 f"evaluation, not a final one")
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["run_dir,method,benchmark,seed,step,task,success"]
    for r in records:
        for task, success in r.per_task.items():
            lines.append(f"{r.run_dir},{r.method},{r.benchmark},{r.seed},{r.step},{task},{success}")
    (out_dir / "results.csv").write_text("\n".join(lines) + "\n")

    methods = sorted({r.method for r in records})
    benchmarks = sorted({r.benchmark for r in records})
    summary: dict[str, Any] = {"methods": methods, "benchmarks": benchmarks, "aggregate": {}, "per_task": {},
                               "probability_of_improvement": {}}
    rng = np.random.RandomState(0)  # arch (rliable) wants a legacy RandomState
    for bench in benchmarks:
        scores: dict[str, np.ndarray] = {}
        for m in methods:
            runs = sorted((r for r in records if r.method == m and r.benchmark == bench), key=lambda r: r.seed)
            if not runs:
                continue
            tasks = sorted(runs[0].per_task)
            scores[m] = np.array([[r.per_task[t] for t in tasks] for r in runs])  # (seeds, tasks)
            summary["per_task"].setdefault(bench, {})[m] = dict(zip(tasks, scores[m].mean(axis=0).tolist(),
                                                                    strict=True))
        num_tasks = min(x.shape[1] for x in scores.values()) if scores else 0
        ks = [k for k in WORST_K if k < num_tasks]
        point, intervals = _interval_estimates(
            scores, lambda x, ks=ks: np.array([metrics.aggregate_iqm(x), metrics.aggregate_mean(x),
                                               *(worst_k_mean(x, k) for k in ks)]), reps=reps, random_state=rng)
        summary["aggregate"][bench] = {
            m: {"iqm": float(point[m][0]), "iqm_ci": [float(intervals[m][0, 0]), float(intervals[m][1, 0])],
                "mean": float(point[m][1]), "mean_ci": [float(intervals[m][0, 1]), float(intervals[m][1, 1])],
                "worst_k": {str(k): {"value": float(point[m][2 + i]),
                                     "ci": [float(intervals[m][0, 2 + i]), float(intervals[m][1, 2 + i])]}
                            for i, k in enumerate(ks)},
                "runs": int(scores[m].shape[0])}
            for m in scores
        }
        pairs = {f"{a} > {b}": (scores[a], scores[b]) for a in scores for b in scores
                 if a != b and scores[a].shape[1] == scores[b].shape[1]}
        if pairs:
            p_point, p_ci = _interval_estimates(pairs, metrics.probability_of_improvement, reps=reps,
                                                       random_state=rng)
            summary["probability_of_improvement"][bench] = {
                k: {"p": float(np.ravel(p_point[k])[0]),
                    "ci": [float(np.ravel(p_ci[k][0])[0]), float(np.ravel(p_ci[k][1])[0])]} for k in pairs}
    summary["rows"] = _rows(records, summary, methods, benchmarks)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "summary.md").write_text(_markdown(summary))
    shown = _figures(records, summary, out_dir, methods, benchmarks, published or [])
    emit(_markdown(summary).split("\n## Per-task")[0])
    if page is not None:
        from mtrl.results import results_page

        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(results_page(summary, out_dir, page, published or [], shown, _markdown(summary)))
        emit(f"results page written to {page}")
    emit(f"report written to {out_dir} (summary.md, results.csv, figures)")
    return summary


def _rows(records: list[ReportedRun], summary: dict[str, Any], methods: list[str],
          benchmarks: list[str]) -> list[dict[str, Any]]:
    """One row per (method, benchmark): env steps per task, seeds, final mean success, IQM with its CI (``None``
    below 3 seeds), worst-task success and worst-k (means over seeds), the precisions, the mean wall-clock and how
    many of the runs have not finished training (their latest evaluation stands in for the final one)."""
    import numpy as np

    rows = []
    for bench in benchmarks:
        for m in methods:
            runs = sorted((r for r in records if r.method == m and r.benchmark == bench), key=lambda r: r.seed)
            if not runs:
                continue
            agg = summary["aggregate"][bench][m]
            tasks = sorted(runs[0].per_task)
            scores = np.array([[r.per_task[t] for t in tasks] for r in runs])
            clocks = [r.wall_clock_s for r in runs if r.wall_clock_s is not None]
            enough = len(runs) >= 3
            rows.append({
                "method": m, "benchmark": bench, "env_steps_per_task": sorted({r.step for r in runs}),
                "seeds": [r.seed for r in runs], "mean_success": agg["mean"],
                "iqm": agg["iqm"] if enough else None, "iqm_ci": agg["iqm_ci"] if enough else None,
                "worst_task": worst_k_mean(scores, 1),
                "worst_k": {k: w["value"] for k, w in agg["worst_k"].items()},
                "precision": ",".join(sorted({r.precision for r in runs})),
                "wall_clock_s": float(np.mean(clocks)) if clocks else None,
                "unfinished": sum(r.unfinished for r in runs),
                "run_dirs": [str(r.run_dir) for r in runs],
            })
    return rows


def worst_k_mean(scores: Any, k: int) -> float:
    """Mean over runs of each run's mean success on its ``k`` worst tasks; ``scores`` ``(runs, tasks)`` numpy."""
    import numpy as np

    return float(np.sort(scores, axis=1)[:, :k].mean())


def _interval_estimates(*args: Any, **kwargs: Any) -> Any:
    """rliable's ``get_interval_estimates`` without arch's FutureWarning about ``random_state`` (rliable passes
    a RandomState, which arch still accepts)."""
    import warnings

    from rliable import library as rly

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="random_state is deprecated", category=FutureWarning)
        return rly.get_interval_estimates(*args, **kwargs)


def _markdown(summary: dict[str, Any]) -> str:
    benches = summary["benchmarks"]
    out = ["# Final success: IQM [95% CI] (mean [95% CI]) over seeds x tasks", "",
           "| method | " + " | ".join(benches) + " |", "| --- |" + " --- |" * len(benches)]
    for m in summary["methods"]:
        cells = []
        for b in benches:
            a = summary["aggregate"].get(b, {}).get(m)
            cells.append("-" if a is None else
                         f"{a['iqm']:.3f} [{a['iqm_ci'][0]:.3f}, {a['iqm_ci'][1]:.3f}] "
                         f"({a['mean']:.3f} [{a['mean_ci'][0]:.3f}, {a['mean_ci'][1]:.3f}]; n={a['runs']})")
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    for b in benches:
        table = {m: a["worst_k"] for m, a in summary["aggregate"].get(b, {}).items() if a.get("worst_k")}
        ks = sorted({k for w in table.values() for k in w}, key=int)
        if ks:
            out += ["", f"## Worst-k tasks ({b}): mean success of the k worst [95% CI]", "",
                    "| method | " + " | ".join(f"worst-{k}" for k in ks) + " |", "| --- |" + " --- |" * len(ks)]
            out += [f"| {m} | " + " | ".join(f"{w[k]['value']:.3f} [{w[k]['ci'][0]:.3f}, {w[k]['ci'][1]:.3f}]"
                                             if k in w else "-" for k in ks) + " |" for m, w in table.items()]
    for b, pairs in summary["probability_of_improvement"].items():
        out += ["", f"## Probability of improvement ({b})", "", "| pair | P(X > Y) [95% CI] |", "| --- | --- |"]
        out += [f"| {k} | {v['p']:.3f} [{v['ci'][0]:.3f}, {v['ci'][1]:.3f}] |" for k, v in pairs.items()]
    for b, table in summary["per_task"].items():
        tasks = sorted({t for per in table.values() for t in per})
        out += ["", f"## Per-task success ({b}, mean over seeds)", "",
                "| method | " + " | ".join(tasks) + " |", "| --- |" + " --- |" * len(tasks)]
        out += [f"| {m} | " + " | ".join(f"{per.get(t, float('nan')):.2f}" for t in tasks) + " |"
                for m, per in table.items()]
    return "\n".join(out) + "\n"


def _figures(records: list[ReportedRun], summary: dict[str, Any], out_dir: Path, methods: list[str],
             benchmarks: list[str], published: list[Any]) -> dict[str, list[int]]:
    """Write the figures; returns, per benchmark, the indices of the ``published`` points drawn in its learning
    curves (those within the curves' x-range)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    shown: dict[str, list[int]] = {}
    for bench in benchmarks:
        # learning curves: mean success over evaluations, band = bootstrap 95% CI over seeds
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for m in methods:
            curves = [r.curve for r in records if r.method == m and r.benchmark == bench and r.curve]
            if not curves:
                continue
            steps = sorted({s for c in curves for s, _ in c})
            table = np.array([[dict(c).get(s, np.nan) for s in steps] for c in curves])
            mean = np.nanmean(table, axis=0)
            rng = np.random.default_rng(0)
            boots = np.array([np.nanmean(table[rng.integers(0, len(table), len(table))], axis=0)
                              for _ in range(500)])
            lo, hi = np.nanpercentile(boots, 2.5, axis=0), np.nanpercentile(boots, 97.5, axis=0)
            ax.plot(steps, mean, label=f"{m} (n={len(curves)})", color=colors[m], marker="o", markersize=3)
            ax.fill_between(steps, lo, hi, color=colors[m], alpha=0.2)
        shown[bench] = _published_markers(ax, published, bench, records)
        ax.set_xlabel("environment steps per task")
        ax.set_ylabel("mean success rate (evaluation)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{bench}: learning curves (95% bootstrap CI over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / f"curves_{bench}.png", dpi=120)
        plt.close(fig)

        # per-task heatmap, methods x tasks
        table = summary["per_task"].get(bench, {})
        if table:
            tasks = sorted({t for per in table.values() for t in per})
            grid = np.array([[table[m].get(t, np.nan) for t in tasks] for m in table])
            fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(tasks) + 2), 0.5 * len(table) + 2))
            im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
            ax.set_xticks(range(len(tasks)), tasks, rotation=60, ha="right", fontsize=8)
            ax.set_yticks(range(len(table)), list(table), fontsize=9)
            if len(tasks) <= 12:
                for i in range(grid.shape[0]):
                    for j in range(grid.shape[1]):
                        ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7,
                                color="white" if grid[i, j] < 0.5 else "black")
            fig.colorbar(im, ax=ax, label="final success rate")
            ax.set_title(f"{bench}: final per-task success (mean over seeds)")
            fig.tight_layout()
            fig.savefig(out_dir / f"per_task_{bench}.png", dpi=120)
            plt.close(fig)

    # rliable interval plot: IQM and mean with CIs, one row per method, one panel per (benchmark, metric)
    fig, axes = plt.subplots(len(benchmarks), 2, figsize=(8, 0.5 * len(methods) * len(benchmarks) + 1.8),
                             squeeze=False)
    for i, bench in enumerate(benchmarks):
        agg = summary["aggregate"][bench]
        for j, (metric, label) in enumerate((("iqm", "IQM"), ("mean", "Mean"))):
            ax = axes[i, j]
            for k, m in enumerate(agg):
                lo, hi = agg[m][f"{metric}_ci"]
                ax.barh(k, hi - lo, left=lo, height=0.6, color=colors[m], alpha=0.75)
                ax.vlines(agg[m][metric], k - 0.3, k + 0.3, color="black", linewidth=1.5)
                # the point estimate in the method's colour stays visible when the CI has zero width
                ax.plot(agg[m][metric], k, marker="D", markersize=6, color=colors[m], markeredgecolor="black",
                        linestyle="none")
            ax.set_yticks(range(len(agg)), list(agg) if j == 0 else [""] * len(agg))
            ax.set_xlabel(f"{label} success ({bench})")
            ax.set_xlim(-0.02, 1.02)
            ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Final success with stratified-bootstrap 95% CIs")
    fig.tight_layout()
    fig.savefig(out_dir / "intervals.png", dpi=120)
    plt.close(fig)
    return shown


def _published_markers(ax: Any, published: list[Any], bench: str, records: list[ReportedRun]) -> list[int]:
    """Draw the published points of ``bench`` that lie within the x-range of its curves (black markers, one
    shape per point); note how many lie beyond it. Returns the indices of the drawn points."""
    steps = [s for r in records if r.benchmark == bench for s, _ in r.curve]
    if not steps:
        return []
    shapes = "s^vD<>ph*P"
    ours = [i for i, p in enumerate(published) if p.benchmark == bench]
    drawn = [i for i in ours if published_in_range(published[i].env_steps_per_task, max(steps))]
    for n, i in enumerate(drawn):
        point = published[i]
        ax.plot(point.env_steps_per_task, point.success, marker=shapes[n % len(shapes)], color="black",
                markersize=7, linestyle="none", label=f"published: {point.method} ({point.success:.3f})")
    if len(ours) > len(drawn):
        ax.text(0.01, 0.99, f"{len(ours) - len(drawn)} published point(s) beyond {max(steps):,} steps: see table",
                transform=ax.transAxes, va="top", fontsize=7, color="dimgray")
    return drawn


def published_in_range(step: int, last_step: int) -> bool:
    """A published point is drawn when its budget is within the curves' x-range (up to 5% past the last
    evaluation, so a point at the same budget as ours is not lost to rounding)."""
    return 0 < step <= 1.05 * last_step


def main_report(run_dirs: list[str], out: str | None, method_keys: list[str] | None,
                published: str | None = None, reps: int = 2000) -> None:
    """``mtrl report``: the statistics and figures in ``out`` (default runs/report) and the results page
    ``<out>.md`` beside it (``--out docs/results`` writes docs/results.md). ``published``: the published numbers
    (default the repository's docs/published.yaml where it exists; ``none``: leave them out)."""
    from mtrl.results import DEFAULT_PUBLISHED, load_published

    if reps < 1:
        raise RunDirError(f"--bootstrap-reps must be >= 1, got {reps}")
    if published is None:
        points = load_published(DEFAULT_PUBLISHED) if DEFAULT_PUBLISHED.is_file() else []
    else:
        points = [] if published == "none" else load_published(Path(published))
    dirs = expand_run_dirs([Path(d) for d in run_dirs])
    out_dir = Path(out) if out else Path("runs") / "report"
    page = out_dir.resolve().parent / f"{out_dir.resolve().name}.md"
    report(dirs, out_dir, method_keys=method_keys or ["name"], reps=reps, page=page, published=points)


if __name__ == "__main__":  # pragma: no cover
    sweep(sys.argv[1], sys.argv[2:])
