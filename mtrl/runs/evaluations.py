"""Recording evaluations: during training (``eval/*`` scalars, ``eval.json``, a row of ``evals.jsonl``) and by
``mtrl evaluate`` (``eval.json`` of a checkpoint)."""

from __future__ import annotations

import json
from pathlib import Path

from mtrl.evaluate import EvalResult, format_table
from mtrl.runs.checkpoint import atomic_write_text
from mtrl.runs.layout import EVAL_FILE, EVALS_FILE
from mtrl.runs.logger import RunLogger


def eval_scalars(result: EvalResult) -> dict[str, float]:
    """The logged scalars of an evaluation: ``eval/mean_success``, ``eval/mean_return``, ``eval/success/<task>``,
    ``eval/worst_k/<k>``."""
    scalars = {"eval/mean_success": result.mean_success, "eval/mean_return": result.mean_return}
    scalars.update({f"eval/success/{k}": v for k, v in result.per_task.items()})
    scalars.update({f"eval/worst_k/{k}": v for k, v in result.worst_k.items()})
    return scalars


def record_training_evaluation(result: EvalResult, run_dir: Path, logger: RunLogger) -> None:
    """What a training run records of an evaluation at ``result.step``: its scalars (:func:`eval_scalars`),
    ``eval.json`` (written atomically) and a row of ``evals.jsonl``."""
    logger.log(int(result.step or 0), eval_scalars(result))
    atomic_write_text(json.dumps(result.to_json(), indent=2) + "\n", run_dir / EVAL_FILE)
    with (run_dir / EVALS_FILE).open("a") as f:
        f.write(json.dumps(result.to_json()) + "\n")


def recorded_evaluation(run_dir: Path, step: int) -> EvalResult | None:
    """The run's last evaluation in ``evals.jsonl`` if it is at ``step`` (None: none there)."""
    path = run_dir / EVALS_FILE
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    if rows and rows[-1].get("step") == step:
        return EvalResult(**rows[-1])
    return None


def record_evaluation(result: EvalResult, step: int, checkpoint: Path, output: Path, episodes: int,
                      verbose: bool) -> EvalResult:
    """``mtrl evaluate``'s record: stamp ``result`` with the checkpoint's step and path, write it atomically to
    ``output`` (``eval.json``), and print the per-task table when ``verbose``."""
    result.step = step
    result.checkpoint = str(checkpoint)
    atomic_write_text(json.dumps(result.to_json(), indent=2) + "\n", output)
    if verbose:
        print(format_table(result))
        print(f"step {result.step} · {episodes} episodes per task · written to {output}")
    return result
