"""Making a new run directory, reading a run's config, and finding the checkpoint a path names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from mtrl.config import RunConfig, from_yaml_text, to_yaml, validate
from mtrl.errors import RunDirError
from mtrl.runs.checkpoint import atomic_write_text, list_checkpoints
from mtrl.runs.layout import CHECKPOINT_DIR, CONFIG_FILE, LOCK_FILES


def default_run_dir(cfg: RunConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{cfg.name}-seed{cfg.seed}-{stamp}"


def new_run_dir(cfg: RunConfig) -> Path:
    """Where a new run of ``cfg`` goes: ``cfg.run_dir``, or a fresh name under ``runs/``."""
    return Path(cfg.run_dir) if cfg.run_dir else default_run_dir(cfg)


def refuse_existing_run(run_dir: Path) -> None:
    """Raise :class:`RunDirError` unless ``run_dir`` is absent or empty (the run-dir lock's files do not count)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run_dir {run_dir} is a file, not a directory; choose another run_dir")
    if run_dir.exists() and any(p.name not in LOCK_FILES for p in run_dir.iterdir()):
        hint = f" (to continue it: mtrl train --resume {run_dir})" if (run_dir / CONFIG_FILE).exists() else ""
        raise RunDirError(f"run directory {run_dir} is not empty; choose another run_dir{hint}")


def prepare_new_run_dir(cfg: RunConfig, run_dir: Path | None = None) -> Path:
    """Create the run directory (default :func:`new_run_dir`); refuse one that already holds anything (never
    overwrite a run; the run-dir lock's own files do not count)."""
    run_dir = run_dir or new_run_dir(cfg)
    refuse_existing_run(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg.run_dir = str(run_dir)
    atomic_write_text(to_yaml(cfg), run_dir / CONFIG_FILE)
    return run_dir


def read_run_config(run_dir: Path) -> RunConfig:
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise RunDirError(f"{run_dir} is not a run directory (no {CONFIG_FILE})")
    cfg = from_yaml_text(path.read_text(), source=str(path))
    validate(cfg)  # an edited config.yaml passes the same checks as a new run's config
    return cfg


def find_checkpoint(target: Path) -> tuple[Path, Path | None]:
    """``(checkpoint, run_dir)`` for a run directory (its newest checkpoint) or a checkpoint file; ``run_dir`` is
    ``None`` for a file outside any run directory (not in ``RUN_DIR/checkpoints/`` next to a ``config.yaml``)."""
    if target.is_dir():
        checkpoints = list_checkpoints(target / CHECKPOINT_DIR)
        if not checkpoints:
            raise RunDirError(f"no checkpoint in {target / CHECKPOINT_DIR}")
        return checkpoints[-1], target
    if target.is_file():
        return target, _run_dir_of(target)
    raise RunDirError(f"no run directory or checkpoint at {target}")


def _run_dir_of(checkpoint: Path) -> Path | None:
    run_dir = checkpoint.parent.parent
    return run_dir if checkpoint.parent.name == CHECKPOINT_DIR and (run_dir / CONFIG_FILE).is_file() else None


def own_eval_path(checkpoint: Path) -> Path:
    """Where the evaluation of a checkpoint other than its run's newest goes: ``<checkpoint name>.eval.json``
    beside it (``ckpt_0000000500.pt`` -> ``ckpt_0000000500.eval.json``)."""
    return checkpoint.parent / f"{checkpoint.stem}.eval.json"
