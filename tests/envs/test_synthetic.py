"""The synthetic point-mass benchmark and the env config: the vector-env contract (shapes, T-major order, masked
resets, truncation, seeding, exact state round trips), the conflict between tasks, and config validation."""

import warnings

import pytest
import torch
from gymnasium.utils.env_checker import check_env

from envs import EnvConfig, MultiTaskVectorEnv, StepResult, make_env
from envs.synthetic import PointMassParams, PointMassTaskEnv, SyntheticMultiTaskEnv, point_mass_step, task_goals

T, E = 4, 3


def go_to_goal(env: SyntheticMultiTaskEnv, obs: torch.Tensor, goals: torch.Tensor | None = None) -> torch.Tensor:
    """Full speed straight at each sub-env's goal (``goals`` ``(T, 2)``, default: its own task's), no overshoot."""
    goals = env.goals if goals is None else goals
    return (goals.unsqueeze(1) - obs) / env.params.step_size


def run_episode(env: SyntheticMultiTaskEnv, policy, goal_indices: torch.Tensor | None = None) -> torch.Tensor:
    """``(T, E)`` bool: the success flag was 1 at some step (the evaluation protocol)."""
    obs = env.reset(goal_indices=goal_indices)
    ever = torch.zeros(env.num_tasks, env.envs_per_task, dtype=torch.bool)
    for _ in range(env.info.max_episode_steps):
        result = env.step(policy(obs))
        ever |= result.success
        obs = result.obs
    assert result.truncated.all()
    return ever


def all_goals_success(env: SyntheticMultiTaskEnv, policy) -> torch.Tensor:
    """``(T,)`` success rate over the 50 fixed goals of every task."""
    counts = torch.zeros(env.num_tasks)
    for start in range(0, env.info.num_goals, env.envs_per_task):
        goal_indices = (torch.arange(env.envs_per_task) + start).clamp(max=env.info.num_goals - 1)
        counts += run_episode(env, policy, goal_indices.expand(env.num_tasks, -1)).float().mean(dim=1)
    return counts / len(range(0, env.info.num_goals, env.envs_per_task))


# ---------------------------------------------------------------------------------------------------- contract
def test_shapes_dtypes_and_info():
    env = make_env(EnvConfig(benchmark="synthetic", synthetic_num_tasks=T, envs_per_task=E), seed=0)
    assert isinstance(env, MultiTaskVectorEnv)
    info = env.info
    assert (info.num_tasks, info.envs_per_task, info.obs_dim, info.action_dim) == (T, E, 2, 2)
    assert info.max_episode_steps == 50 and info.num_goals == 50 and info.backend == "synthetic"
    assert info.task_names == [f"point-mass-goal-{k}" for k in range(T)]
    obs = env.reset()
    assert obs.shape == (T, E, 2) and obs.dtype == torch.float32
    result = env.step(torch.zeros(T, E, 2))
    assert isinstance(result, StepResult)
    assert result.obs.shape == (T, E, 2) and result.obs.dtype == torch.float32
    assert result.reward.shape == (T, E) and result.reward.dtype == torch.float32
    for flag in (result.terminated, result.truncated, result.success, result.done):
        assert flag.shape == (T, E) and flag.dtype == torch.bool
    assert not result.terminated.any()
    with pytest.raises(ValueError, match="shape"):
        env.step(torch.zeros(T, E, 4))


def test_for_eval_uses_eval_copies_and_the_same_fixed_goals():
    cfg = EnvConfig(benchmark="synthetic", envs_per_task=2, eval_envs_per_task=10)
    train_env, eval_env = make_env(cfg, seed=3), make_env(cfg, seed=3, for_eval=True)
    assert (train_env.envs_per_task, eval_env.envs_per_task) == (2, 10)
    goals = torch.tensor([[7, 8]] * cfg.synthetic_num_tasks)
    assert torch.equal(train_env.reset(goal_indices=goals), eval_env.reset(goal_indices=goals.repeat(1, 5))[:, :2])


def test_task_major_order_and_goal_indices():
    env = SyntheticMultiTaskEnv(T, E, seed=1)
    goal_indices = torch.arange(T * E).view(T, E) * 3 % 50
    obs = env.reset(goal_indices=goal_indices)
    for t in range(T):
        for e in range(E):
            assert torch.equal(obs[t, e], env.starts[t, goal_indices[t, e]])
    # row t pursues goal t: the scripted policy for goal t earns the most reward in row t only
    result = env.step(go_to_goal(env, obs))
    wrong = env.reset(goal_indices=goal_indices)
    wrong_result = env.step(go_to_goal(env, wrong, env.goals.roll(1, dims=0)))
    assert (result.reward > wrong_result.reward).all()
    with pytest.raises(ValueError, match="goal_indices"):
        env.reset(goal_indices=torch.full((T, E), 50))


def test_copies_of_a_task_draw_different_goals():
    env = SyntheticMultiTaskEnv(T, 8, seed=0)
    env.reset()
    assert all(len(set(env.goal_index[t].tolist())) > 1 for t in range(T))


def test_same_seed_same_trajectories_different_seed_differs():
    def rollout(seed):
        env = SyntheticMultiTaskEnv(T, E, seed=seed)
        actions = torch.Generator().manual_seed(0)
        trace = []
        for _ in range(3):
            trace.append(env.reset())
            for _ in range(10):
                result = env.step(torch.rand(T, E, 2, generator=actions) * 2 - 1)
                trace += [result.obs, result.reward]
        return torch.cat([x.flatten() for x in trace])

    assert torch.equal(rollout(5), rollout(5))
    assert not torch.equal(rollout(5), rollout(6))


def test_masked_reset_only_resets_masked_envs():
    env = SyntheticMultiTaskEnv(T, E, seed=0, episode_steps=10)
    env.reset()
    for _ in range(4):
        obs = env.step(torch.ones(T, E, 2) * 0.3).obs
    mask = torch.zeros(T, E, dtype=torch.bool)
    mask[1, 2] = mask[3, 0] = True
    goal_indices = torch.full((T, E), 11)
    after = env.reset(mask, goal_indices)
    assert torch.equal(after[~mask], obs[~mask])
    assert torch.equal(after[1, 2], env.starts[1, 11]) and torch.equal(after[3, 0], env.starts[3, 11])
    # the others keep their step count: they truncate 6 steps later, the reset ones 10 steps later
    for step in range(1, 11):
        result = env.step(torch.zeros(T, E, 2))
        if step == 6:
            assert torch.equal(result.truncated, ~mask)
            env.reset(~mask)
    assert torch.equal(result.truncated, mask)
    assert torch.equal(env.reset(torch.zeros(T, E, dtype=torch.bool)), result.obs)  # empty mask: nothing happens


def test_truncation_exactly_at_episode_steps_and_no_autoreset():
    env = make_env(EnvConfig(benchmark="synthetic", synthetic_episode_steps=7), seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(4, 1, 2))  # never reset
    env.reset()
    for _ in range(6):
        assert not env.step(torch.zeros(4, 1, 2)).done.any()
    result = env.step(torch.zeros(4, 1, 2))
    assert result.truncated.all() and not result.terminated.any()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(4, 1, 2))


def test_reward_range_and_success_definition():
    params = PointMassParams()
    goals = task_goals(params)
    position = torch.rand(1000, 2) * 2 - 1
    task = torch.randint(0, params.num_tasks, (1000,))
    _, reward, success = point_mass_step(position, torch.zeros(1000, 2), task, goals, params)
    distance = (position - goals[task]).norm(dim=-1)
    assert torch.equal(success, distance <= params.success_radius)
    assert (reward >= 0).all() and (reward <= params.reward_scale).all()
    assert torch.equal(reward == params.reward_scale, success)
    # closer is better everywhere outside the success region
    closer = position + 0.5 * (goals[task] - position)
    _, closer_reward, _ = point_mass_step(closer, torch.zeros(1000, 2), task, goals, params)
    assert (closer_reward[~success] > reward[~success]).all()


def test_speed_limit_is_isotropic_and_the_arena_is_closed():
    params = PointMassParams()
    goals = task_goals(params)
    start = torch.zeros(3, 2)
    actions = torch.tensor([[1.0, 0.0], [1.0, 1.0], [5.0, -5.0]])
    moved, _, _ = point_mass_step(start, actions, torch.zeros(3, dtype=torch.long), goals, params)
    assert torch.allclose(moved.norm(dim=-1), torch.full((3,), params.step_size))
    edge, _, _ = point_mass_step(torch.tensor([[0.99, -0.99]]), torch.tensor([[1.0, -1.0]]),
                                 torch.zeros(1, dtype=torch.long), goals, params)
    assert edge.abs().max() <= 1.0


def test_state_round_trip_reproduces_the_episode():
    env = SyntheticMultiTaskEnv(T, E, seed=2)
    env.reset()
    for _ in range(env.info.max_episode_steps):
        env.step(torch.rand(T, E, 2) * 2 - 1)
    state = env.get_state()  # at an episode boundary, before the reset

    def episode():
        trace = [env.reset()]
        actions = torch.Generator().manual_seed(1)
        for _ in range(20):
            result = env.step(torch.rand(T, E, 2, generator=actions) * 2 - 1)
            trace += [result.obs, result.reward]
        return torch.cat([x.flatten() for x in trace]), env.get_state()

    first, mid_state = episode()
    env.set_state(state)
    again, _ = episode()
    assert torch.equal(first, again)
    # a fresh env restored from the state (as a resumed run) does the same, also from the middle of an episode
    fresh = SyntheticMultiTaskEnv(T, E, seed=2)
    fresh.set_state(mid_state)
    env.set_state(mid_state)
    action = torch.rand(T, E, 2)
    assert torch.equal(fresh.step(action).obs, env.step(action).obs)


@pytest.mark.parametrize("other", [dict(num_tasks=3), dict(envs_per_task=2), dict(seed=1), dict(step_size=0.05)])
def test_set_state_of_a_different_env_raises(other):
    kwargs = dict(num_tasks=T, envs_per_task=E, seed=0) | other
    state = SyntheticMultiTaskEnv(**kwargs).get_state()
    with pytest.raises(ValueError, match="different env"):
        SyntheticMultiTaskEnv(T, E, seed=0).set_state(state)
    with pytest.raises(ValueError):
        SyntheticMultiTaskEnv(T, E, seed=0).set_state({"backend": "metaworld"})


# ---------------------------------------------------------------------------------------------------- conflict
def test_scripted_go_to_goal_policy_solves_every_task():
    env = SyntheticMultiTaskEnv(T, 10, seed=0)
    assert torch.equal(all_goals_success(env, lambda obs: go_to_goal(env, obs)), torch.ones(T))


def test_a_policy_that_ignores_the_task_fails_the_other_tasks():
    env = SyntheticMultiTaskEnv(T, 10, seed=0)
    toward_goal_0 = env.goals[:1].expand(T, 2)
    rates = all_goals_success(env, lambda obs: go_to_goal(env, obs, toward_goal_0))
    assert rates[0] == 1.0 and (rates[1:] == 0.0).all()


def test_touring_every_goal_does_not_help_a_task_agnostic_policy():
    """Visiting the goals one after another (ignoring the task) would succeed on every task within 50 steps; the
    other tasks' goal regions trap the point, so from any start at most one task succeeds."""
    env = SyntheticMultiTaskEnv(T, 50, seed=0)
    params, goals = env.params, env.goals
    all_goals = torch.arange(50).expand(T, 50)

    def tour(step_fn):
        position = env.reset(goal_indices=all_goals)
        visited = torch.zeros(T, 50, T, dtype=torch.bool)
        ever = torch.zeros(T, 50, dtype=torch.bool)
        for _ in range(params.episode_steps):
            visited |= (position.unsqueeze(-2) - goals).norm(dim=-1) <= params.success_radius
            target = goals[visited.long().cumprod(dim=-1).sum(dim=-1).clamp(max=T - 1)]  # first goal not visited
            position, success = step_fn(position, (target - position) / params.step_size)
            ever |= success
        return ever.float().mean(dim=1)

    def without_trap(position, action):  # each task sees only its own goal
        out = [point_mass_step(position[t], action[t], torch.zeros(50, dtype=torch.long), goals[t:t + 1], params)
               for t in range(T)]
        return torch.stack([o[0] for o in out]), torch.stack([o[2] for o in out])

    def with_trap(position, action):
        result = env.step(action)
        return result.obs, result.success

    assert (tour(without_trap) == 1.0).all()  # the trap is what makes the tasks conflict
    rates = tour(with_trap)
    assert rates.sum() <= 1.0 + 1e-6, rates  # at most one task succeeds from each start


def test_point_mass_task_env_passes_the_gymnasium_checker_and_matches_the_vector_env():
    single = PointMassTaskEnv(2, 4, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(single, skip_render_check=True)
    vector = SyntheticMultiTaskEnv(4, 1, seed=5)
    obs, info = single.reset(seed=0, options={"goal_index": 13})
    vector_obs = vector.reset(goal_indices=torch.full((4, 1), 13))
    assert info["goal_index"] == 13 and torch.equal(torch.from_numpy(obs), vector_obs[2, 0])
    rng = torch.Generator().manual_seed(0)
    for _ in range(50):
        action = torch.rand(4, 1, 2, generator=rng) * 2 - 1
        obs, reward, terminated, truncated, info = single.step(action[2, 0].numpy())
        result = vector.step(action)
        assert torch.equal(torch.from_numpy(obs), result.obs[2, 0])
        assert reward == pytest.approx(result.reward[2, 0].item()) and info["success"] == result.success[2, 0]
        assert not terminated and truncated == result.truncated[2, 0]
    assert truncated


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_env_matches_cpu():
    cpu, gpu = SyntheticMultiTaskEnv(T, E, seed=0), SyntheticMultiTaskEnv(T, E, seed=0, device="cuda")
    assert torch.equal(cpu.reset(), gpu.reset().cpu())
    action = torch.rand(T, E, 2) * 2 - 1
    a, b = cpu.step(action), gpu.step(action.cuda())
    assert b.obs.device.type == "cuda" and b.reward.device.type == "cuda"
    assert torch.allclose(a.obs, b.obs.cpu()) and torch.equal(a.success, b.success.cpu())
    gpu.set_state(cpu.get_state())


# ---------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("overrides, message", [
    (dict(benchmark="mt10"), "unknown benchmark 'mt10' (did you mean 'MT10'?)"),
    (dict(benchmark="Atari"), "unknown benchmark 'Atari'; valid: MT10, MT50, MT1, custom, synthetic"),
    (dict(envs_per_task=0), "envs_per_task must be an integer >= 1"),
    (dict(eval_envs_per_task=0), "eval_envs_per_task must be an integer >= 1"),
    (dict(reward_function_version="v3"), "unknown reward_function_version 'v3'; valid: v1, v2"),
    (dict(vector_strategy="threads"), "unknown vector_strategy 'threads'"),
    (dict(max_episode_steps=0), "max_episode_steps must be an integer >= 1"),
    (dict(benchmark="MT1"), "benchmark MT1 needs exactly one task"),
    (dict(benchmark="custom"), "benchmark custom needs at least one"),
    (dict(benchmark="synthetic", synthetic_num_tasks=0), "synthetic_num_tasks must be an integer >= 1"),
    (dict(benchmark="synthetic", synthetic_goal_radius=1.5), "synthetic_goal_radius must be in"),
    (dict(benchmark="synthetic", synthetic_start_radius=0.65), "synthetic_start_radius must be"),
    (dict(benchmark="synthetic", synthetic_reward_scale=0.0), "synthetic_reward_scale must be > 0"),
])
def test_config_validation_names_the_problem(overrides, message):
    cfg = EnvConfig(**overrides)
    with pytest.raises(ValueError) as err:
        cfg.validate()
    assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError):
        make_env(cfg, seed=0)  # make_env validates first


def test_default_configs_are_valid_and_negative_seeds_are_refused():
    EnvConfig().validate()
    EnvConfig(benchmark="synthetic").validate()
    with pytest.raises(ValueError, match="seed"):
        make_env(EnvConfig(benchmark="synthetic"), seed=-1)
