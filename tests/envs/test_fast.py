"""The fast Meta-World backend is the reference benchmark: per task, the same states and actions give the same
observations (1e-9), rewards (1e-5) and success flags (exactly) as metaworld's own step, over random actions and
over metaworld's scripted experts (which grasp, push and reach the goal: the rewarding branches); and everything
around the step (resets, masks, truncation, RNG checkpoints, fallbacks) behaves as the reference backend does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.metaworld

metaworld = pytest.importorskip("metaworld")

from envs import EnvConfig, make_env  # noqa: E402
from envs.fast_metaworld import KERNELS, FastMetaWorldVectorEnv, fast_task_names  # noqa: E402
from envs.metaworld_env import MetaWorldVectorEnv  # noqa: E402
from envs.metaworld_tasks import KERNELS as TASK_KERNELS  # noqa: E402
from envs.metaworld_tasks.objects import ModelId  # noqa: E402
from mtrl.bench.parity.fast import trace_parity  # noqa: E402

MT10 = list(metaworld.env_dict.MT10_V3)
FAST_MT10 = [t for t in MT10 if t in KERNELS]
OTHER_FAST = [t for t in fast_task_names() if t not in MT10]
PAIR = ["reach-v3", "push-v3"]


def _check(rows, *, expect_success: bool) -> None:
    for row in rows:
        assert row.ok, row.to_dict()
        if expect_success:  # the expert succeeded on the reference, so the rewarding branches were compared
            assert row.reference_success > 0, f"{row.task}: the scripted expert never succeeded"


@pytest.mark.parametrize("policy", ["random", "scripted"])
def test_mt10_kernels_match_the_reference(policy):
    rows = trace_parity(FAST_MT10, steps=300, episode_steps=150, policy=policy, noise=0.1, seed=1)
    _check(rows, expect_success=policy == "scripted")


@pytest.mark.skipif(not OTHER_FAST, reason="no MT50 kernels beyond MT10")
@pytest.mark.parametrize("policy", ["random", "scripted"])
def test_mt50_kernels_match_the_reference(policy):
    rows = trace_parity(OTHER_FAST, steps=200, episode_steps=200, policy=policy, noise=0.1, seed=2)
    _check(rows, expect_success=False)
    if policy == "scripted":
        succeeded = [row.task for row in rows if row.reference_success > 0]
        assert len(succeeded) >= 0.8 * len(rows), f"experts succeeded on too few tasks: {succeeded}"


def test_every_mt10_task_has_a_kernel():
    assert FAST_MT10 == MT10, f"MT10 tasks without a fast kernel: {sorted(set(MT10) - set(FAST_MT10))}"


def test_model_ids_resolve_on_first_use_and_name_their_kind():
    env = MetaWorldVectorEnv("custom", ["dial-turn-v3"], envs_per_task=1, seed=0)
    try:
        raw = env.vector_env.envs[0].unwrapped
        kernel = KERNELS["dial-turn-v3"](raw)
        assert "_knob_qpos" not in vars(kernel)
        assert kernel._dial == raw.model.body("dial").id
        assert kernel._knob_qpos == raw.model.jnt_qposadr[raw.model.joint("knob_Joint_1").id]
        assert vars(kernel)["_knob_qpos"] == kernel._knob_qpos  # stored: later reads skip the descriptor
    finally:
        env.close()
    with pytest.raises(ValueError, match="ModelId kind 'joint'.*valid: body, site, geom, qpos"):
        ModelId("joint", "knob_Joint_1")


def test_family_members_are_named_after_their_task():
    kernels = TASK_KERNELS["window-close-v3"]
    assert (kernels.fast.__name__, kernels.warp.__name__) == ("WindowCloseKernel", "WindowCloseWarpKernel")
    assert kernels.fast.task == kernels.warp.task == "window-close-v3"
    assert kernels.fast.object_spec is kernels.warp.object_spec is kernels.fast.variant.objects


def test_masked_resets_truncation_and_copies_match_the_reference():
    kwargs = dict(envs_per_task=2, seed=4, max_episode_steps=7)
    reference = MetaWorldVectorEnv("custom", PAIR, **kwargs)
    fast = FastMetaWorldVectorEnv("custom", PAIR, **kwargs)
    rng = np.random.default_rng(0)
    try:
        assert torch.equal(reference.reset(), fast.reset())
        mask = torch.tensor([[True, False], [False, True]])
        since_reset = torch.zeros(2, 2, dtype=torch.long)
        truncations = 0
        for step in range(20):
            actions = torch.from_numpy(rng.uniform(-1, 1, (2, 2, 4)).astype(np.float32))
            ref, out = reference.step(actions), fast.step(actions)
            since_reset += 1
            assert torch.allclose(ref.obs, out.obs, atol=1e-6)
            assert torch.allclose(ref.reward, out.reward, atol=1e-5)
            for name in ("terminated", "truncated", "success"):
                assert torch.equal(getattr(ref, name), getattr(out, name)), name
            assert torch.equal(out.truncated, since_reset == 7)
            truncations += int(out.truncated.sum())
            if step == 3:  # a partial reset mid-episode: only the masked sub-envs change
                before = out.obs
                ref_obs, fast_obs = reference.reset(mask), fast.reset(mask)
                assert torch.allclose(ref_obs, fast_obs, atol=1e-6)
                assert torch.equal(fast_obs[~mask], before[~mask])
                assert not torch.equal(fast_obs[mask], before[mask])
                since_reset[mask] = 0
            if bool(out.done.any()):
                with pytest.raises(RuntimeError, match="reset it first"):
                    fast.step(actions)
                reference.reset(out.done)
                fast.reset(out.done)
                since_reset[out.done] = 0
        assert truncations >= 4
    finally:
        reference.close()
        fast.close()


def test_state_round_trip_reproduces_the_episodes():
    cfg = EnvConfig(benchmark="custom", tasks=PAIR, envs_per_task=1, backend="fast")
    actions = torch.from_numpy(np.random.default_rng(1).uniform(-1, 1, (5, 2, 1, 4)).astype(np.float32))
    with make_env(cfg, seed=3) as env:
        env.reset()
        state = env.get_state()
        first = [env.reset()] + [env.step(a).obs for a in actions]
        env.set_state(state)
        second = [env.reset()] + [env.step(a).obs for a in actions]
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)


def test_v1_reward_and_missing_kernels_fall_back_to_the_reference_step():
    kwargs = dict(envs_per_task=1, seed=0, reward_function_version="v1")
    fast = FastMetaWorldVectorEnv("custom", PAIR, **kwargs)
    reference = MetaWorldVectorEnv("custom", PAIR, **kwargs)
    try:
        assert fast.info.extra["reference_tasks"] == PAIR and not fast.fast_mask.any()
        fast.reset(), reference.reset()
        actions = torch.full((2, 1, 4), 0.3)
        assert torch.equal(fast.step(actions).reward, reference.step(actions).reward)
    finally:
        fast.close()
        reference.close()


def test_config_selects_and_validates_the_backend():
    cfg = EnvConfig(benchmark="MT1", tasks=["reach-v3"], backend="fast")
    with make_env(cfg, seed=0) as env:
        assert isinstance(env, FastMetaWorldVectorEnv)
        assert env.info.backend == "metaworld-fast" and env.info.extra["fast_tasks"] == ["reach-v3"]
    with pytest.raises(ValueError, match="unknown backend 'fsat'.*did you mean 'fast'"):
        EnvConfig(benchmark="MT10", backend="fsat").validate()
    with pytest.raises(ValueError, match="backend fast .* vector_strategy sync"):
        EnvConfig(benchmark="MT10", backend="fast", vector_strategy="async").validate()
