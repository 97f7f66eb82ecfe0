"""MetaWorldVectorEnv against the real metaworld package: shapes, T-major order, goals and steps equal to plain
metaworld envs, seeding, masked resets, truncation, reward versions, exact state round trips (sync and async).

MT10 takes ~10 s to build, so one MT10 env serves the whole module; the other tests use MT1 or two-task custom lists.
"""

import dataclasses
import pickle

import numpy as np
import pytest
import torch

pytest.importorskip("metaworld")

import metaworld  # noqa: E402
from metaworld.env_dict import MT10_V3  # noqa: E402

from envs import EnvConfig, list_tasks, make_env  # noqa: E402
from envs.metaworld_env import MetaWorldVectorEnv  # noqa: E402

pytestmark = [pytest.mark.metaworld, pytest.mark.xdist_group("metaworld")]  # its module fixture: one worker

PAIR = ["reach-v3", "push-v3"]


@pytest.fixture(scope="module")
def mt10():
    env = make_env(EnvConfig(benchmark="MT10", envs_per_task=1), seed=0)
    yield env
    env.close()


def rand_vecs(tasks) -> np.ndarray:
    return np.stack([pickle.loads(task.data)["rand_vec"] for task in tasks])


def plain_env(env: MetaWorldVectorEnv, t: int, goal: int, reward_function_version: str = "v2"):
    """Metaworld's own env for task ``t`` of ``env``, set to its goal ``goal`` and reset."""
    name, env_cls, goals = env.goals[t]
    plain = env_cls(reward_function_version=reward_function_version)
    plain.set_task(goals[goal])
    obs, _ = plain.reset()
    return plain, obs


def trajectory(env: MetaWorldVectorEnv, episodes: int = 2, steps: int = 15, action_seed: int = 0) -> torch.Tensor:
    """Everything ``episodes`` short episodes with random goals and seeded random actions produce, flattened."""
    T, E, A = env.num_tasks, env.envs_per_task, env.info.action_dim
    actions = torch.Generator().manual_seed(action_seed)
    trace = []
    for _ in range(episodes):
        trace.append(env.reset())
        for _ in range(steps):
            result = env.step(torch.rand(T, E, A, generator=actions) * 2 - 1)
            trace += [result.obs, result.reward, result.success.float()]
    return torch.cat([x.flatten() for x in trace])


def test_mt10_shapes_dtypes_order_and_info(mt10):
    info = mt10.info
    assert info.task_names == list_tasks("MT10") == list(MT10_V3)
    assert info.task_names[0] == "reach-v3" and len(info.task_names) == 10
    assert (info.envs_per_task, info.obs_dim, info.action_dim, info.num_goals) == (1, 39, 4, 50)
    assert info.max_episode_steps == 500 and info.backend == "metaworld"
    assert info.extra["reward_function_version"] == "v2" and info.extra["metaworld_version"] == "3.1.1"
    obs = mt10.reset()
    assert obs.shape == (10, 1, 39) and obs.dtype == torch.float32
    result = mt10.step(torch.zeros(10, 1, 4))
    assert result.obs.shape == (10, 1, 39) and result.obs.dtype == torch.float32
    assert result.reward.shape == (10, 1) and result.reward.dtype == torch.float32
    for flag in (result.terminated, result.truncated, result.success):
        assert flag.shape == (10, 1) and flag.dtype == torch.bool
    with pytest.raises(ValueError, match="shape"):
        mt10.step(torch.zeros(10, 4))
    assert len(list_tasks("MT50")) == 50


def test_mt10_goals_are_metaworlds_and_a_step_equals_plain_metaworld_envs(mt10):
    # MT10's goals are drawn from one stream seeded with the run seed; its first task consumes the stream first,
    # exactly as MT1 of that task with the same seed does
    assert np.array_equal(rand_vecs(mt10.goals[0][2]), rand_vecs(metaworld.MT1("reach-v3", seed=0).train_tasks))
    goal_indices = torch.arange(10).view(10, 1) * 4 + 1
    obs = mt10.reset(goal_indices=goal_indices)
    actions = torch.rand(10, 1, 4, generator=torch.Generator().manual_seed(0)) * 2 - 1
    result = mt10.step(actions)
    for t in range(10):
        plain, plain_obs = plain_env(mt10, t, int(goal_indices[t, 0]))
        assert torch.equal(obs[t, 0], torch.from_numpy(plain_obs).float()), mt10.info.task_names[t]
        plain_obs, reward, _, truncated, info = plain.step(actions[t, 0].numpy())
        assert torch.equal(result.obs[t, 0], torch.from_numpy(plain_obs).float())
        assert result.reward[t, 0].item() == pytest.approx(reward, rel=1e-6)
        assert result.success[t, 0].item() == bool(info["success"]) and not truncated
        plain.close()


def test_custom_goals_follow_metaworlds_custom_convention_and_copies_draw_different_goals():
    env = MetaWorldVectorEnv("custom", PAIR, envs_per_task=4, seed=3)
    assert env.info.task_names == PAIR
    assert np.array_equal(rand_vecs(env.goals[0][2]), rand_vecs(metaworld.MT1("reach-v3", seed=3).train_tasks))
    assert np.array_equal(rand_vecs(env.goals[1][2]), rand_vecs(metaworld.MT1("push-v3", seed=4).train_tasks))
    drawn = []
    for _ in range(3):
        obs = env.reset()
        drawn.append(env.vector_env.get_attr("goal_index"))
    drawn = np.array(drawn).reshape(3, 2, 4)  # (resets, T, E): sub-env t * E + e is copy e of task t
    for t in range(2):
        assert len({tuple(drawn[:, t, e]) for e in range(4)}) == 4, "copies must draw different goal sequences"
    # T-major: every copy of task t shows task t's scene (reach and push put their goal in different places)
    goal_of = {tuple(v) for v in obs[0, :, -3:].tolist()}
    assert goal_of.isdisjoint({tuple(v) for v in obs[1, :, -3:].tolist()})
    env.close()


def test_same_seed_same_trajectories_different_seed_differs():
    def run(seed):
        with make_env(EnvConfig(benchmark="custom", tasks=PAIR, envs_per_task=2), seed=seed) as env:
            return trajectory(env)

    first = run(0)
    assert torch.equal(first, run(0))
    assert not torch.equal(first, run(1))


def test_masked_reset_only_resets_masked_envs_and_truncation_is_exact():
    env = MetaWorldVectorEnv("MT1", ["reach-v3"], envs_per_task=3, seed=0, max_episode_steps=8)
    env.reset(goal_indices=torch.tensor([[0, 1, 2]]))
    for _ in range(5):
        result = env.step(torch.full((1, 3, 4), 0.5))
        assert not result.done.any()
    mask = torch.tensor([[False, True, False]])
    after = env.reset(mask, goal_indices=torch.tensor([[40, 41, 42]]))
    assert torch.equal(after[~mask], result.obs[~mask])
    _, fresh = plain_env(env, 0, 41)
    assert torch.equal(after[0, 1], torch.from_numpy(fresh).float())
    assert env.vector_env.get_attr("goal_index") == (0, 41, 2)
    for step in range(6, 9):  # the unmasked copies truncate at their own step 8, the reset one runs on
        result = env.step(torch.zeros(1, 3, 4))
        assert result.truncated[0].tolist() == [step == 8, False, step == 8]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(1, 3, 4))
    assert torch.equal(env.reset(torch.zeros(1, 3, dtype=torch.bool)), result.obs)  # empty mask: nothing happens
    env.close()


def test_episodes_longer_than_metaworlds_own_500_step_limit():
    with MetaWorldVectorEnv("MT1", ["reach-v3"], seed=0, max_episode_steps=501) as env:
        env.reset()
        for _ in range(500):
            assert not env.step(torch.zeros(1, 1, 4)).truncated.any()
        assert env.step(torch.zeros(1, 1, 4)).truncated.all()


def test_reward_function_versions_differ():
    rewards = {}
    for version in ("v1", "v2"):
        with MetaWorldVectorEnv("MT1", ["push-v3"], seed=0, reward_function_version=version) as env:
            assert env.info.extra["reward_function_version"] == version
            env.reset(goal_indices=torch.zeros(1, 1, dtype=torch.long))
            rewards[version] = torch.stack([env.step(torch.full((1, 1, 4), 0.3)).reward for _ in range(5)])
    assert not torch.allclose(rewards["v1"], rewards["v2"])


@pytest.mark.parametrize("strategy", ["sync", "async"])
def test_state_round_trip_reproduces_the_episodes(strategy):
    cfg = EnvConfig(benchmark="custom", tasks=PAIR, envs_per_task=2, vector_strategy=strategy)
    env = make_env(cfg, seed=0)
    trajectory(env, episodes=1, steps=3)
    state = pickle.loads(pickle.dumps(env.get_state()))  # taken at an episode boundary, before the reset
    first = trajectory(env)
    env.set_state(state)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(2, 2, 4))  # physics is not part of the state: reset first
    assert torch.equal(trajectory(env), first)
    env.close()
    with make_env(cfg, seed=0) as resumed:  # a fresh env, as in a resumed run
        resumed.set_state(state)
        assert torch.equal(trajectory(resumed), first)


def test_set_state_of_a_different_env_raises():
    with MetaWorldVectorEnv("custom", PAIR, seed=0) as env:
        state = env.get_state()
        with MetaWorldVectorEnv("MT1", ["reach-v3"], seed=0) as other:
            with pytest.raises(ValueError, match="different env"):
                other.set_state(state)
        with MetaWorldVectorEnv("custom", PAIR, envs_per_task=2, seed=0) as more_copies:
            with pytest.raises(ValueError, match="envs_per_task"):
                more_copies.set_state(state)
        with MetaWorldVectorEnv("custom", PAIR, seed=1) as other_goals:
            with pytest.raises(ValueError, match="goals_digest"):
                other_goals.set_state(state)
        with pytest.raises(ValueError, match="lacks"):
            env.set_state({"backend": "metaworld"})


def test_async_matches_sync_and_closes_its_workers():
    cfg = EnvConfig(benchmark="custom", tasks=PAIR, envs_per_task=2)
    with make_env(cfg, seed=0) as sync_env:
        expected = trajectory(sync_env, episodes=1)
    env = make_env(dataclasses.replace(cfg, vector_strategy="async"), seed=0)
    assert env.info.extra["vector_strategy"] == "async"
    assert torch.equal(trajectory(env, episodes=1), expected)
    workers = list(env.vector_env.processes)
    assert len(workers) == 4 and all(p.is_alive() for p in workers)
    env.close()
    env.close()  # idempotent
    assert not any(p.is_alive() for p in workers)


def test_make_env_for_eval_and_config_errors():
    cfg = EnvConfig(benchmark="MT1", tasks=["reach-v3"], envs_per_task=1, eval_envs_per_task=3)
    with make_env(cfg, seed=0, for_eval=True) as env:
        assert env.envs_per_task == 3 and env.info.task_names == ["reach-v3"]
    suggestion = r"unknown Meta-World v3 task 'pick-plce-v3' \(did you mean 'pick-place-v3'\?\)"
    with pytest.raises(ValueError, match=suggestion):
        make_env(EnvConfig(benchmark="custom", tasks=["reach-v3", "pick-plce-v3"]), seed=0)
    with pytest.raises(ValueError, match="did you mean 'reach-v3'"):
        EnvConfig(benchmark="MT1", tasks=["reach-v2"]).validate()
    with pytest.raises(ValueError, match="more than once"):
        EnvConfig(benchmark="custom", tasks=["reach-v3", "reach-v3"]).validate()
    with pytest.raises(ValueError, match="exactly one task"):
        EnvConfig(benchmark="MT1", tasks=PAIR).validate()


def test_async_step_async_then_wait_equals_step():
    cfg = EnvConfig(benchmark="custom", tasks=PAIR, envs_per_task=1, vector_strategy="async")
    actions = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (3, 2, 1, 4)).astype(np.float32))
    with make_env(cfg, seed=5) as a, make_env(cfg, seed=5) as b:
        a.reset(), b.reset()
        for action in actions:
            a.step_async(action)
            overlapped, plain = a.step_wait(), b.step(action)
            assert torch.equal(overlapped.obs, plain.obs) and torch.equal(overlapped.reward, plain.reward)
        with pytest.raises(RuntimeError, match="step_async"):
            b.step_wait()
