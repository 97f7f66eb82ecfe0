"""The parity suite of the Warp backend, driven from the reference environment.

:func:`warp_parity` (what ``scripts/parity_warp.py`` and the tests run):

1. draws uniform random action sequences per task and goal (fixed seed);
2. exports the reset states of the tasks with the reference's traces of those actions
   (:func:`envs.warp_metaworld.reference.export_reset_states`), and runs metaworld's scripted expert on the
   reference for the same goals;
3. runs :mod:`mtrl.bench.parity.warp_replay` with the Warp environment's Python (``MTRL_WARP_PYTHON``, default
   ``.venv-warp/bin/python`` in the repository) on that export: replayed traces and the expert run closed-loop on
   Warp;
4. judges each task: the mean observation deviation, the max reward deviation and the success-flag agreement of the
   traces, and the experts' success rates on both backends, against the tolerances below.

The two sides run different MuJoCo versions (metaworld pins 3.3.0; MuJoCo Warp needs a newer one) and Warp runs in
float32, so traces agree to about 1e-3 for tens of steps and then drift apart where contacts amplify differences:
parity here is statistical, not bitwise (the fast CPU backend is the bitwise one).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
MEAN_OBS_TOLERANCE = 2e-3  # mean |obs deviation| over the traced steps
MAX_REWARD_TOLERANCE = 0.5  # largest |reward deviation| (rewards are in [0, 10])
SUCCESS_AGREEMENT = 0.95  # share of traced steps whose success flags agree
EXPERT_SUCCESS_GAP = 0.34  # largest |expert success rate, reference - Warp|


def warp_python() -> Path:
    """The Warp environment's interpreter: ``$MTRL_WARP_PYTHON`` or ``.venv-warp/bin/python`` in the repository."""
    return Path(os.environ.get("MTRL_WARP_PYTHON", ROOT / ".venv-warp" / "bin" / "python"))


@dataclass
class WarpParity:
    """One task's parity of the Warp backend with the reference."""

    task: str
    steps: int
    max_obs_dev: float
    mean_obs_dev: float
    max_reward_dev: float
    mean_reward_dev: float
    success_agreement: float
    reference_expert_success: float | None
    warp_expert_success: float | None

    @property
    def ok(self) -> bool:
        expert = (self.reference_expert_success is None or self.warp_expert_success is None
                  or abs(self.reference_expert_success - self.warp_expert_success) <= EXPERT_SUCCESS_GAP)
        return (self.mean_obs_dev <= MEAN_OBS_TOLERANCE and self.max_reward_dev <= MAX_REWARD_TOLERANCE
                and self.success_agreement >= SUCCESS_AGREEMENT and expert)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def reference_expert_success(tasks: Sequence[str], seed: int, episodes: int, episode_steps: int) -> dict[str, float]:
    """Success rate of metaworld's scripted expert on the reference backend, goals ``0 .. episodes - 1``."""
    import torch

    from envs.metaworld_env import MetaWorldVectorEnv
    from mtrl.bench.parity.fast import scripted_policy

    env = MetaWorldVectorEnv("custom", list(tasks), envs_per_task=episodes, seed=seed,
                             max_episode_steps=episode_steps)
    experts = [scripted_policy(task) for task in tasks]
    T = len(tasks)
    try:
        env.reset(goal_indices=torch.arange(episodes).repeat(T, 1))
        hit = np.zeros((T, episodes), dtype=bool)
        for _ in range(episode_steps):
            obs = env.last_raw_obs.reshape(T, episodes, -1)
            actions = np.stack([[experts[t].get_action(obs[t, e]) for e in range(episodes)] for t in range(T)])
            out = env.step(torch.as_tensor(np.clip(actions, -1, 1), dtype=torch.float32))
            hit |= out.success.numpy()
    finally:
        env.close()
    return {task: float(hit[t].mean()) for t, task in enumerate(tasks)}


def warp_parity(tasks: Sequence[str], *, steps: int = 40, goals: int = 2, expert_episodes: int = 0,
                expert_steps: int = 500, seed: int = 0, device: str = "cpu", workdir: str | Path | None = None,
                timeout: float = 3600) -> list[WarpParity]:
    """Run the parity suite on ``tasks`` (see the module docstring).

    Args:
        steps: traced steps per goal; ``goals``: goals ``0 .. goals - 1`` are traced per task.
        expert_episodes: episodes of the scripted expert per task and backend (0: skip).
        expert_steps: their length.
        device: the Warp side's device (``cpu`` or ``cuda``).

    Raises:
        FileNotFoundError: no Warp environment (``MTRL_WARP_PYTHON``).
        RuntimeError: the Warp side failed (its output is in the message).
    """
    from envs.warp_metaworld.reference import export_reset_states

    python = warp_python()
    if not python.exists():
        raise FileNotFoundError(f"no Warp environment at {python}: run scripts/setup_warp_env.sh or set "
                                "MTRL_WARP_PYTHON")
    rng = np.random.default_rng(seed)
    traces = {task: {g: rng.uniform(-1, 1, (steps, 4)).astype(np.float32) for g in range(goals)} for task in tasks}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        states = export_reset_states("custom", tasks, seed, Path(tmp) / "states.npz", traces=traces,
                                     max_episode_steps=max(steps, expert_steps))
        report_path = Path(tmp) / "report.json"
        command = [str(python), "-m", "mtrl.bench.parity.warp_replay", "--states", str(states), "--out",
                   str(report_path), "--device", device]
        if expert_episodes:
            command += ["--scripted-episodes", str(expert_episodes), "--scripted-steps", str(expert_steps)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"the Warp side failed ({' '.join(command)}):\n{done.stdout[-4000:]}"
                               f"\n{done.stderr[-4000:]}")
        report = json.loads(report_path.read_text())
    reference = reference_expert_success(tasks, seed, expert_episodes, expert_steps) if expert_episodes else {}
    warp_expert = report.get("scripted_success", {})
    return [WarpParity(task=task, **report["traces"][task], reference_expert_success=reference.get(task),
                       warp_expert_success=warp_expert.get(task)) for task in tasks]
