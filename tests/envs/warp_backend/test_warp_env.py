"""The Warp env's contract, run inside the Warp environment on an export made by the reference side
(``tests/envs/test_warp.py`` makes it and passes it in ``MTRL_WARP_TEST_STATES``, with the reference backend's goal
choices in ``MTRL_WARP_TEST_GOALS``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from envs.warp_metaworld.env import WarpMetaWorldVectorEnv, load_reset_states

STATES = os.environ.get("MTRL_WARP_TEST_STATES")
pytestmark = pytest.mark.skipif(not STATES, reason="needs MTRL_WARP_TEST_STATES (see tests/envs/test_warp.py)")
EPISODE = 6  # the export's max_episode_steps


@pytest.fixture(scope="module")
def env():
    with WarpMetaWorldVectorEnv(STATES, envs_per_task=2, seed=0) as env:
        yield env


def test_shapes_dtypes_and_info(env):
    obs = env.reset()
    assert obs.shape == (2, 2, 39) and obs.dtype == torch.float32
    out = env.step(torch.zeros(2, 2, 4))
    assert out.obs.shape == (2, 2, 39) and out.reward.shape == (2, 2) and out.reward.dtype == torch.float32
    assert out.success.dtype == torch.bool and out.truncated.dtype == torch.bool and not out.terminated.any()
    assert env.info.backend == "metaworld-warp" and env.info.task_names == ["reach-v3", "push-v3"]
    assert env.info.extra["reference_mujoco"] == "3.3.0" and env.info.max_episode_steps == EPISODE


def test_goals_follow_the_reference_backend(env):
    expected = json.loads(Path(os.environ["MTRL_WARP_TEST_GOALS"]).read_text())
    fresh = WarpMetaWorldVectorEnv(STATES, envs_per_task=2, seed=0)
    drawn = []
    for _ in expected:
        fresh.reset()
        drawn.append(fresh.goal_indices.tolist())
    assert drawn == expected


def test_reset_restores_the_exported_state_and_goal(env):
    _, arrays = load_reset_states(STATES)
    env.reset(goal_indices=torch.tensor([[3, 7], [0, 49]]))
    for t, task in enumerate(env.info.task_names):
        for e, g in enumerate((3, 7) if t == 0 else (0, 49)):
            expected = arrays[f"{task}/state.qpos"][g]
            assert np.allclose(env.sims[t].qpos[e].numpy(), expected, atol=1e-6)
            assert np.allclose(env._obs[t, e, 36:].numpy(), arrays[f"{task}/attr._target_pos"][g], atol=1e-6)
            # the reset observation is the reference's, and the restored state gives the same positions
            assert np.allclose(env._obs[t, e].numpy(), arrays[f"{task}/reset_obs"][g], atol=1e-6)
            assert np.allclose(env._current(t)[e].numpy(), arrays[f"{task}/reset_obs"][g][:18], atol=1e-4)


def test_masked_reset_truncation_and_ended_envs(env):
    env.reset()
    before = env.step(torch.full((2, 2, 4), 0.5)).obs
    mask = torch.tensor([[True, False], [False, False]])
    after = env.reset(mask)
    assert torch.equal(after[~mask], before[~mask]) and not torch.equal(after[mask], before[mask])
    with pytest.raises(RuntimeError, match="reset it first"):
        for _ in range(EPISODE + 1):
            out = env.step(torch.zeros(2, 2, 4))
            truncated = out.truncated
    assert truncated[~mask].all() and not truncated[mask].any()


def test_state_round_trip_reproduces_the_episodes(env):
    state = env.get_state()
    first = [env.reset()] + [env.step(torch.full((2, 2, 4), 0.3)).obs for _ in range(3)]
    env.set_state(state)
    with pytest.raises(RuntimeError, match="reset it first"):
        env.step(torch.zeros(2, 2, 4))
    second = [env.reset()] + [env.step(torch.full((2, 2, 4), 0.3)).obs for _ in range(3)]
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="different env"):
        env.set_state({**state, "envs_per_task": 3})


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no reset-state export"):
        WarpMetaWorldVectorEnv(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a reset-state export"):
        WarpMetaWorldVectorEnv(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="goals of seed 0, not of seed 1"):
        WarpMetaWorldVectorEnv(STATES, seed=1)
    with pytest.raises(ValueError, match="tasks not in"):
        WarpMetaWorldVectorEnv(STATES, tasks=["pick-place-v3"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_step_has_no_host_sync():
    with WarpMetaWorldVectorEnv(STATES, envs_per_task=4, seed=0, device="cuda") as env:
        env.reset()
        actions = torch.zeros(2, 4, 4, device="cuda")
        env.step(actions)
        torch.cuda.set_sync_debug_mode("error")
        try:
            for _ in range(3):
                out = env.step(actions)
        finally:
            torch.cuda.set_sync_debug_mode(0)
        assert out.obs.is_cuda and out.reward.is_cuda


def test_mtsac_trains_and_evaluates_on_the_warp_backend(tmp_path):
    from mtrl.config import load_config
    from mtrl.train import train

    cfg = load_config(None, [
        f"run_dir={tmp_path / 'run'}", "env.benchmark=custom", "env.tasks=[reach-v3,push-v3]", "env.backend=warp",
        f"env.warp_reset_states={STATES}", "env.max_episode_steps=20", "env.eval_envs_per_task=2", "device=cpu",
        "train.total_steps_per_task=60", "train.random_steps_per_task=20", "train.eval_every=0",
        "train.eval_episodes=2", "train.log_every=20", "train.checkpoint_every=40", "train.progress=false",
        "agent.sac.actor.hidden_sizes=[32]", "agent.sac.critic.hidden_sizes=[32]", "agent.sac.batch_size_per_task=8",
    ])
    run_dir, result = train(cfg)
    assert set(result.per_task) == {"reach-v3", "push-v3"} and result.episodes_per_task == 2
    record = json.loads((run_dir / "env.json").read_text())
    assert record["backend"] == "metaworld-warp" and record["reference_mujoco"] == "3.3.0"
    assert (run_dir / "eval.json").is_file() and any((run_dir / "checkpoints").iterdir())
