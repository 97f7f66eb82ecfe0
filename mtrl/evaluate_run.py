"""``mtrl evaluate``: the protocol on a run directory or a checkpoint file."""

from __future__ import annotations

import json
from pathlib import Path

from envs import make_env
from mtrl.checkpoint import atomic_write_text, list_checkpoints, load_checkpoint
from mtrl.config import from_yaml_text
from mtrl.errors import CheckpointError, RunDirError
from mtrl.evaluate import EvalResult, evaluate, format_table
from mtrl.train import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    EVAL_FILE,
    build_agent,
    read_run_config,
    resolve_device,
    seed_everything,
)


def find_checkpoint(target: Path) -> tuple[Path, Path]:
    """``(checkpoint, run_dir)`` for a run directory (its newest checkpoint) or a checkpoint file."""
    if target.is_dir():
        checkpoints = list_checkpoints(target / CHECKPOINT_DIR)
        if not checkpoints:
            raise RunDirError(f"no checkpoint in {target / CHECKPOINT_DIR}")
        return checkpoints[-1], target
    if target.is_file():
        return target, target.parent.parent
    raise RunDirError(f"no run directory or checkpoint at {target}")


def _is_sb3_baseline(target: Path) -> bool:
    """A run directory of the SB3 baseline arm (``agent.name=sb3_*``), or one of its checkpoint directories."""
    if target.is_dir() and target.parent.name == CHECKPOINT_DIR and target.name.startswith("sb3_"):
        return True
    return target.is_dir() and (target / CONFIG_FILE).is_file() and \
        read_run_config(target).agent.name.startswith("sb3_")


def evaluate_run(target: Path, episodes: int = 50, output: Path | None = None, device: str = "auto",
                 verbose: bool = True) -> EvalResult:
    """Evaluate the policy of a checkpoint with the official protocol and write ``eval.json``."""
    if episodes < 1:
        raise RunDirError(f"--episodes must be >= 1, got {episodes}")
    if _is_sb3_baseline(target):
        from mtrl.agents.sb3_baseline import evaluate_sb3_run

        return evaluate_sb3_run(target, episodes, output, device, verbose)
    checkpoint, run_dir = find_checkpoint(target)
    torch_device = resolve_device(device)
    state = load_checkpoint(checkpoint, map_location=torch_device)
    cfg = from_yaml_text(state["config"])
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
    return record_evaluation(result, int(state["step"]), checkpoint, output or run_dir / EVAL_FILE, episodes,
                             verbose)


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
