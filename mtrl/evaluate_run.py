"""``mtrl evaluate``: the protocol on a run directory or a checkpoint file."""

from __future__ import annotations

import json
from pathlib import Path

from envs import make_env
from mtrl.checkpoint import atomic_write_text, check_same_run, list_checkpoints, load_checkpoint
from mtrl.config import from_yaml_text
from mtrl.errors import CheckpointError, RunDirError
from mtrl.evaluate import EvalResult, evaluate, format_table
from mtrl.run_lock import run_dir_lock
from mtrl.train import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    EVAL_FILE,
    build_agent,
    read_run_config,
    resolve_device,
    seed_everything,
)


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


def _is_sb3_baseline(target: Path) -> bool:
    """A run directory of the SB3 baseline arm (``agent.name=sb3_*``), or one of its checkpoint directories."""
    if target.is_dir() and target.parent.name == CHECKPOINT_DIR and target.name.startswith("sb3_"):
        return True
    return target.is_dir() and (target / CONFIG_FILE).is_file() and \
        read_run_config(target).agent.name.startswith("sb3_")


def evaluate_run(target: Path, episodes: int = 50, output: Path | None = None, device: str = "auto",
                 verbose: bool = True) -> EvalResult:
    """Evaluate the policy of a checkpoint with the official protocol and write the result.

    The result goes to ``output`` if given; else to the run's ``eval.json`` for the run's newest checkpoint, and to
    :func:`own_eval_path` (beside the file) for any other checkpoint, inside a run directory or not. A checkpoint
    whose recorded config names another run than its run directory's is refused. The run directory is locked
    (:mod:`mtrl.run_lock`) while it is evaluated.
    """
    if episodes < 1:
        raise RunDirError(f"--episodes must be >= 1, got {episodes}")
    if _is_sb3_baseline(target):
        from mtrl.agents.sb3_baseline import META_FILE, find_sb3_checkpoint, list_sb3_checkpoints

        checkpoint, run_dir = find_sb3_checkpoint(target)
        newest = [p.name for p in list_sb3_checkpoints(run_dir / CHECKPOINT_DIR)][-1:] == [checkpoint.name]
        with run_dir_lock(run_dir, "mtrl evaluate"):
            recorded = from_yaml_text(json.loads((checkpoint / META_FILE).read_text())["config"])
            check_same_run(read_run_config(run_dir), recorded, checkpoint)
            from mtrl.agents.sb3_baseline import evaluate_sb3_run

            output = output or (run_dir / EVAL_FILE if newest else own_eval_path(checkpoint))
            return evaluate_sb3_run(checkpoint, episodes, output, device, verbose)
    checkpoint, run_dir = find_checkpoint(target)
    if run_dir is None:
        return _evaluate_checkpoint(checkpoint, None, episodes, output or own_eval_path(checkpoint), device, verbose)
    newest = [p.name for p in list_checkpoints(run_dir / CHECKPOINT_DIR)][-1:] == [checkpoint.name]
    with run_dir_lock(run_dir, "mtrl evaluate"):
        output = output or (run_dir / EVAL_FILE if newest else own_eval_path(checkpoint))
        return _evaluate_checkpoint(checkpoint, run_dir, episodes, output, device, verbose)


def _evaluate_checkpoint(checkpoint: Path, run_dir: Path | None, episodes: int, output: Path, device: str,
                         verbose: bool) -> EvalResult:
    torch_device = resolve_device(device)
    state = load_checkpoint(checkpoint, map_location=torch_device)
    if "config" not in state or "agent" not in state or "step" not in state:
        raise CheckpointError(f"{checkpoint} is incomplete (needs config, agent and step)")
    cfg = from_yaml_text(state["config"])
    if run_dir is not None:
        check_same_run(read_run_config(run_dir), cfg, checkpoint)
    seed_everything(cfg.seed, cfg.deterministic)
    env = make_env(cfg.env, seed=cfg.seed, device=torch_device, for_eval=True)
    try:
        info = env.info
        agent = build_agent(cfg, info.obs_dim, info.action_dim, info.num_tasks, torch_device)
        try:
            agent.load_policy_state_dict(state["agent"])
        except (RuntimeError, KeyError) as err:
            raise CheckpointError(
                f"checkpoint {checkpoint} does not fit its recorded architecture: {str(err).splitlines()[0][:300]}"
            ) from err
        result = evaluate(lambda o: agent.act(o, deterministic=True), env, episodes)
    finally:
        env.close()
    return record_evaluation(result, int(state["step"]), checkpoint, output, episodes, verbose)


def record_evaluation(result: EvalResult, step: int, checkpoint: Path, output: Path, episodes: int,
                      verbose: bool) -> EvalResult:
    """Stamp ``result`` with the checkpoint's step and path, write it atomically to ``output`` (``eval.json``),
    and print the per-task table when ``verbose``."""
    result.step = step
    result.checkpoint = str(checkpoint)
    atomic_write_text(json.dumps(result.to_json(), indent=2) + "\n", output)
    if verbose:
        print(format_table(result))
        print(f"step {result.step} · {episodes} episodes per task · written to {output}")
    return result
