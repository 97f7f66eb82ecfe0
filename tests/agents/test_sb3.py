"""Stable-Baselines3: the per-task baseline arm, single-task envs SB3 accepts, and mtrl policies behind SB3's
``predict``."""

import json
import math

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.xdist_group("sb3")  # one worker: see tests/conftest.py

pytest.importorskip("stable_baselines3")

from stable_baselines3 import SAC  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.evaluation import evaluate_policy  # noqa: E402

from envs import make_env  # noqa: E402
from envs.config import EnvConfig  # noqa: E402
from envs.single_task import make_single_task_env  # noqa: E402
from mtrl.agents.registry import build_agent  # noqa: E402
from mtrl.config import from_yaml_text, load_config  # noqa: E402
from mtrl.errors import CheckpointError, ConfigError  # noqa: E402
from mtrl.evaluate_run import evaluate_run  # noqa: E402
from mtrl.interop.sb3 import SB3PolicyAdapter  # noqa: E402
from mtrl.runs.checkpoint import list_checkpoints, load_checkpoint  # noqa: E402
from mtrl.train import train  # noqa: E402
from tests.helpers import ROOT, SYNTHETIC  # noqa: E402

SYNTHETIC_PPO = ROOT / "configs" / "synthetic_ppo.yaml"
TWO_TASKS = ["env.synthetic_num_tasks=2", "train.progress=false", "train.eval_episodes=20"]
TINY_SAC = [*TWO_TASKS, "train.total_steps_per_task=600", "train.random_steps_per_task=200", "train.log_every=200",
            "train.eval_every=300", "train.checkpoint_every=300", "agent.sac.actor.hidden_sizes=[32,32]",
            "agent.sac.critic.hidden_sizes=[32,32]", "agent.sac.batch_size_per_task=32"]


def _assert_protocol(result: dict, tasks: list[str], episodes: int) -> None:
    assert set(result["per_task"]) == set(tasks)
    assert result["episodes_per_task"] == episodes
    for rate in result["per_task"].values():
        assert 0.0 <= rate <= 1.0
        assert rate * episodes == pytest.approx(round(rate * episodes))  # a count of whole episodes
    assert result["mean_success"] == pytest.approx(sum(result["per_task"].values()) / len(tasks))


# ---------------------------------------------------------------------------------------------- the baseline arm


@pytest.fixture(scope="module")
def sb3_sac_run(tmp_path_factory):
    """The SAC baseline arm on two synthetic tasks, 600 steps each (a few seconds)."""
    run_dir = tmp_path_factory.mktemp("sb3") / "run"
    return train(load_config(SYNTHETIC, ["agent.name=sb3_sac_per_task", f"run_dir={run_dir}", *TINY_SAC]))


def test_sb3_sac_per_task_arm_writes_a_comparable_run_directory(sb3_sac_run, tmp_path):
    run_dir, result = sb3_sac_run
    tasks = ["point-mass-goal-0", "point-mass-goal-1"]
    recorded = json.loads((run_dir / "eval.json").read_text())
    _assert_protocol(recorded, tasks, episodes=20)
    assert recorded["per_task"] == result.per_task and recorded["step"] == 600
    assert recorded["protocol"]["backend"] == "synthetic"
    # what `mtrl compare` / `mtrl report` read, and what `mtrl train` writes
    for name in ("config.yaml", "env.json", "metrics.jsonl", "evals.jsonl"):
        assert (run_dir / name).is_file(), name
    assert from_yaml_text((run_dir / "config.yaml").read_text()).agent.name == "sb3_sac_per_task"
    assert [json.loads(row)["step"] for row in (run_dir / "evals.jsonl").read_text().splitlines()] == [400, 600]
    assert any((run_dir / "tb").iterdir())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    keys = set().union(*rows)
    for task in tasks:
        for key in ("charts/success_rate", "eval/success", "losses/critic_loss", "charts/alpha"):
            assert f"{key}/{task}" in keys, key
    # a checkpoint per evaluation interval, each task's SB3 model loadable by SB3 itself, no leftovers
    checkpoints = sorted((run_dir / "checkpoints").iterdir())
    assert [p.name for p in checkpoints] == ["sb3_0000000400", "sb3_0000000600"]
    assert sorted(p.name for p in checkpoints[-1].iterdir()) == ["meta.json", *(f"{t}.zip" for t in tasks)]
    model = SAC.load(checkpoints[-1] / f"{tasks[1]}.zip")
    assert model.policy.actor.latent_pi[0].out_features == 32 and model.batch_size == 32
    # `mtrl evaluate RUN_DIR` reproduces the final evaluation from the checkpoint
    again = evaluate_run(run_dir, episodes=20, output=tmp_path / "again.json", verbose=False)
    assert again.per_task == result.per_task and again.step == 600
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        train(None, resume_dir=run_dir)  # type: ignore[arg-type]


def test_compare_reads_the_baseline_run_like_any_other(sb3_sac_run):
    from mtrl.compare import load_run

    record = load_run(sb3_sac_run[0], ["agent.name"])
    assert (record.method, record.benchmark, record.seed, record.step) == ("sb3_sac_per_task", "synthetic", 0, 600)
    assert record.per_task == sb3_sac_run[1].per_task
    assert [step for step, _ in record.curve] == [400, 600]


def test_sb3_ppo_per_task_arm_learns_the_synthetic_tasks(tmp_path):
    # a 0.2 success radius: SB3's PPO gets within 0.1 of the goal on only some seeds at this budget (seeds 0-5 at
    # radius 0.1: mean success 0.6, 1.0, 0.95, 0.6, 0.5, 0.6); at 0.2: 1.0, 1.0, 0.95, 0.88, 0.68, 1.0
    overrides = ["agent.name=sb3_ppo_per_task", f"run_dir={tmp_path / 'run'}", *TWO_TASKS,
                 "env.synthetic_success_radius=0.2",
                 "train.total_steps_per_task=8000", "train.log_every=2000", "train.checkpoint_every=8000"]
    run_dir, result = train(load_config(SYNTHETIC_PPO, overrides))
    recorded = json.loads((run_dir / "eval.json").read_text())
    _assert_protocol(recorded, ["point-mass-goal-0", "point-mass-goal-1"], episodes=20)
    assert result.mean_success >= 0.75, result.per_task  # 1.0 on seed 0
    checkpoint = run_dir / "checkpoints" / "sb3_0000008000"
    assert (checkpoint / "point-mass-goal-0.obs_norm.json").is_file()  # PPO's observation statistics travel along
    rates = [json.loads(r).get("charts/learning_rate") for r in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rates = [r for r in rates if r is not None]
    assert rates == sorted(rates, reverse=True) and rates[0] < 3e-3  # annealed over the whole budget, not per chunk
    again = evaluate_run(run_dir, episodes=20, output=tmp_path / "again.json", verbose=False)
    assert again.per_task == result.per_task


def test_config_lists_the_sb3_agents():
    with pytest.raises(ConfigError, match="sb3_sac_per_task, sb3_ppo_per_task"):
        load_config(SYNTHETIC, ["agent.name=sb3_sac"])


# ---------------------------------------------------------------------------------------------- single-task envs


@pytest.mark.parametrize("task", [0, "point-mass-goal-2"])
def test_synthetic_single_task_env_passes_check_env(task):
    env = make_single_task_env(EnvConfig(benchmark="synthetic", synthetic_num_tasks=4), task, seed=3)
    check_env(env)
    _, info = env.reset(seed=0)
    _, _, terminated, _, info = env.step(env.action_space.sample())
    assert "success" in info and isinstance(info["success"], bool) and terminated is False


def test_synthetic_single_task_env_matches_the_vector_env():
    cfg = EnvConfig(benchmark="synthetic", synthetic_num_tasks=3, synthetic_step_size=0.2)
    vector = make_env(cfg, seed=5)
    single = make_single_task_env(cfg, 2, seed=5)
    goals = torch.tensor([[7], [7], [7]])
    assert np.array_equal(vector.reset(goal_indices=goals)[2, 0].numpy(), single.reset(options={"goal_index": 7})[0])
    rng = np.random.default_rng(0)
    for _ in range(cfg.synthetic_episode_steps):
        action = rng.uniform(-1, 1, (3, 1, 2)).astype(np.float32)
        result = vector.step(torch.from_numpy(action))
        obs, reward, _, truncated, info = single.step(action[2, 0])
        assert np.array_equal(result.obs[2, 0].numpy(), obs)
        assert float(result.reward[2, 0]) == pytest.approx(reward)
        assert bool(result.success[2, 0]) == info["success"] and bool(result.truncated[2, 0]) == truncated


def test_single_task_env_rejects_unknown_tasks():
    with pytest.raises(ValueError, match="not in the benchmark"):
        make_single_task_env(EnvConfig(benchmark="synthetic"), "reach-v3", seed=0)
    with pytest.raises(ValueError, match="out of range"):
        make_single_task_env(EnvConfig(benchmark="synthetic", synthetic_num_tasks=2), 2, seed=0)


@pytest.mark.metaworld
def test_metaworld_single_task_env_passes_check_env_and_matches_the_vector_env():
    cfg = EnvConfig(benchmark="MT1", tasks=["reach-v3"], max_episode_steps=20)
    env = make_single_task_env(cfg, "reach-v3", seed=0)
    check_env(env)
    vector = make_env(cfg, seed=0)
    env = make_single_task_env(cfg, "reach-v3", seed=0)  # fresh streams: those of the vector env's sub-env (0, 0)
    try:
        obs, info = env.reset()
        assert obs.dtype == np.float32 and np.array_equal(vector.reset()[0, 0].numpy(), obs)
        assert env.observation_space.contains(obs)
        rng = np.random.default_rng(0)
        for step in range(cfg.max_episode_steps):
            action = rng.uniform(-1, 1, 4).astype(np.float32)
            result = vector.step(torch.from_numpy(action).view(1, 1, 4))
            obs, reward, terminated, truncated, info = env.step(action)
            assert np.array_equal(result.obs[0, 0].numpy(), obs)
            assert float(result.reward[0, 0]) == pytest.approx(reward)
            assert isinstance(info["success"], bool) and not terminated
            assert truncated == (step == cfg.max_episode_steps - 1)
        goal_obs, info = env.reset(options={"goal_index": 3})
        assert info["goal_index"] == 3
    finally:
        vector.close()
        env.close()


# ---------------------------------------------------------------------------------------------- interop


@pytest.fixture(scope="module", params=["mtsac", "mtppo"])
def tiny_run(request, tmp_path_factory):
    """A finished two-task synthetic run of MTSAC or MTPPO (a few seconds)."""
    run_dir = tmp_path_factory.mktemp(request.param) / "run"
    if request.param == "mtsac":
        overrides = [*TINY_SAC, "train.total_steps_per_task=100", "train.random_steps_per_task=50",
                     "train.eval_episodes=2", f"run_dir={run_dir}"]
        train(load_config(SYNTHETIC, overrides))
    else:
        overrides = [*TWO_TASKS, "env.envs_per_task=2", "train.total_steps_per_task=100", "train.eval_episodes=2",
                     "train.log_every=100", "agent.ppo.epochs=1", f"run_dir={run_dir}"]
        train(load_config(SYNTHETIC_PPO, overrides))
    return run_dir


def test_evaluate_policy_runs_on_a_wrapped_mtrl_policy(tiny_run):
    cfg = from_yaml_text((tiny_run / "config.yaml").read_text())
    env = make_single_task_env(cfg.env, "point-mass-goal-1", seed=cfg.seed)
    policy = SB3PolicyAdapter.from_checkpoint(tiny_run, task="point-mass-goal-1", env=env)
    assert policy.task_index == 1 and policy.observation_space is env.observation_space
    mean_return, std_return = evaluate_policy(policy, env, n_eval_episodes=3, warn=False)
    assert math.isfinite(mean_return) and math.isfinite(std_return)
    assert 0.0 <= mean_return <= cfg.env.synthetic_reward_scale * cfg.env.synthetic_episode_steps


def test_wrapped_policy_acts_as_the_mtrl_agent(tiny_run):
    state = load_checkpoint(list_checkpoints(tiny_run / "checkpoints")[-1])
    cfg = from_yaml_text(state["config"])
    agent = build_agent(cfg, 2, 2, 2, torch.device("cpu"))
    agent.load_policy_state_dict(state["agent"])
    obs = torch.rand(2, 5, 2) * 2 - 1  # (T, E, D): different observations for the two tasks
    expected = agent.act(obs, deterministic=True)
    for task in range(2):
        policy = SB3PolicyAdapter.from_checkpoint(tiny_run, task=task)
        actions, state_out = policy.predict(obs[task].numpy(), deterministic=True)
        assert state_out is None and actions.shape == (5, 2) and actions.dtype == np.float32
        np.testing.assert_allclose(actions, expected[task].numpy(), rtol=0, atol=1e-6)
        single, _ = policy.predict(obs[task, 0].numpy(), deterministic=True)  # one unbatched observation
        np.testing.assert_allclose(single, expected[task, 0].numpy(), rtol=0, atol=1e-6)
    sampled, _ = policy.predict(obs[1].numpy(), deterministic=False)
    assert sampled.shape == (5, 2) and np.all(np.abs(sampled) <= 1.0)


def test_bench_sb3_reports_paired_per_round_ratios(tmp_path):
    """`mtrl bench sb3 --no-curves` on tiny networks: one row per learner, each learner's ratio the median of its
    per-round ratios to SB3's per-step update (so SB3's own row is exactly 1), inside the rounds' range."""
    from mtrl.bench.sb3 import run

    lines: list[str] = []
    summary = run(envs=("synthetic",), hidden=[8], iters=2, rounds=3, curves=False, out=tmp_path, emit=lines.append)
    rows = {t.learner: t for t in summary["timings"]}
    assert set(rows) == {"mtsac", "sb3-sac", "sb3-sac-batched"}
    assert rows["sb3-sac"].x_sb3 == 1.0 and rows["sb3-sac"].x_sb3_range == (1.0, 1.0)
    for t in rows.values():
        low, high = t.x_sb3_range
        assert t.ms_per_update > 0 and 0 < low <= t.x_sb3 <= high, t
        assert t.hidden == [8] and t.batch == 256
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert {r["learner"] for r in records if r["bench"] == "sb3-update"} == set(rows)
    assert any("rounds' range" in line for line in lines)
    assert (next(tmp_path.iterdir()) / "results.jsonl").read_text().count("sb3-update") == 3
