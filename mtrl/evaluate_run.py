"""``mtrl evaluate``: the protocol on a run directory or a checkpoint file."""

from __future__ import annotations

from pathlib import Path

from envs import make_env
from mtrl.agents.registry import EvaluateRun, agent_spec, build_agent
from mtrl.config import from_yaml_text
from mtrl.errors import CheckpointError, RunDirError
from mtrl.evaluate import EvalResult, evaluate
from mtrl.runs.checkpoint import check_same_run, list_checkpoints, load_checkpoint
from mtrl.runs.device import resolve_device, seed_everything
from mtrl.runs.directory import find_checkpoint, own_eval_path, read_run_config
from mtrl.runs.evaluations import record_evaluation
from mtrl.runs.layout import CHECKPOINT_DIR, CONFIG_FILE, EVAL_FILE, SB3_CHECKPOINT_PREFIX
from mtrl.runs.lock import run_dir_lock


def _own_evaluation(target: Path) -> EvaluateRun | None:
    """``mtrl evaluate`` of ``target``'s agent if that agent has a runner of its own (the SB3 arm) and ``target`` is
    its run directory or one of its checkpoint directories (``RUN_DIR/checkpoints/sb3_<step>/``); else None."""
    if target.is_dir() and target.parent.name == CHECKPOINT_DIR and target.name.startswith(SB3_CHECKPOINT_PREFIX):
        run_dir = target.parent.parent
    elif target.is_dir() and (target / CONFIG_FILE).is_file():
        run_dir = target
    else:
        return None
    return agent_spec(read_run_config(run_dir).agent.name).evaluate


def evaluate_run(target: Path, episodes: int = 50, output: Path | None = None, device: str = "auto",
                 verbose: bool = True) -> EvalResult:
    """Evaluate the policy of a checkpoint with the official protocol and write the result.

    The result goes to ``output`` if given; else to the run's ``eval.json`` for the run's newest checkpoint, and to
    :func:`~mtrl.runs.directory.own_eval_path` (beside the file) for any other checkpoint, inside a run directory or
    not. A checkpoint whose recorded config names another run than its run directory's is refused. The run
    directory is locked (:mod:`mtrl.runs.lock`) while it is evaluated.
    """
    if episodes < 1:
        raise RunDirError(f"--episodes must be >= 1, got {episodes}")
    own_evaluation = _own_evaluation(target)
    if own_evaluation is not None:
        return own_evaluation(target, episodes, output, device, verbose)
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
