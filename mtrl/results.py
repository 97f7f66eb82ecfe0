"""``results/<name>/``: the small artefacts of a finished run kept in the repository (never a checkpoint).

:func:`collect` copies ``config.yaml``, ``env.json``, ``evals.jsonl``, ``eval.json`` and ``run.json`` from a run
directory; ``mtrl report`` reads such folders like run directories.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mtrl.errors import RunDirError

#: the files a result folder holds; run.json is optional (runs made before it existed lack it)
RESULT_FILES = ("config.yaml", "env.json", "evals.jsonl", "eval.json", "run.json")
REQUIRED_FILES = ("config.yaml", "eval.json")
MAX_RESULT_BYTES = 1_000_000  # a result folder stays small enough to commit


def collect(run_dir: Path, dest: Path, max_bytes: int = MAX_RESULT_BYTES) -> list[Path]:
    """Copy ``run_dir``'s small artefacts into ``dest`` (made; must not exist or be empty). Checks everything
    before writing: the run's required files exist and the copies fit in ``max_bytes``. Returns the copies."""
    if not run_dir.is_dir():
        raise RunDirError(f"run directory not found: {run_dir}")
    missing = [name for name in REQUIRED_FILES if not (run_dir / name).is_file()]
    if missing:
        raise RunDirError(f"{run_dir} is not a finished run: it lacks {', '.join(missing)}")
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
