"""The reference backend's fast Python paths change nothing: the same seed and the same actions give the same
observations, rewards and success flags, bit for bit, with (``fast_python=True``, the default) and without them
(metaworld's own code).

envpool's native Meta-World v3 tasks are not a backend: they expose neither goal nor state injection, so the 50
fixed goals per task cannot be restored and no trace can be started from the reference's state (see docs/envs.md,
"envpool"); there is therefore no envpool parity suite to run.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.metaworld

metaworld = pytest.importorskip("metaworld")

from metaworld.policies import ENV_POLICY_MAP  # noqa: E402
from metaworld.sawyer_xyz_env import SawyerXYZEnv  # noqa: E402

from envs.metaworld_env import MetaWorldVectorEnv, touching_object_fast  # noqa: E402

TASKS = ["pick-place-v3", "push-v3"]  # the MT10 tasks whose reward runs the grasp test at every step


def _trace(fast: bool, steps: int, seed: int = 3) -> tuple[list[torch.Tensor], int]:
    """Obs, reward, success of ``steps`` steps of the expert policy plus noise (it grasps: contacts happen), and
    how often the grasp test was true (checked with metaworld's own function on the same state)."""
    env = MetaWorldVectorEnv("custom", TASKS, envs_per_task=1, seed=seed, fast_python=fast)
    policies = [ENV_POLICY_MAP[name]() for name in TASKS]
    rng = np.random.default_rng(seed)
    raws = [sub.unwrapped for sub in env.vector_env.envs]
    records, touching = [], 0
    try:
        obs = env.reset()
        records.append(obs)
        for _ in range(steps):
            actions = np.stack([p.get_action(o[0].numpy()) for p, o in zip(policies, obs, strict=True)])
            actions = np.clip(actions + rng.normal(0, 0.3, actions.shape), -1, 1)
            result = env.step(torch.as_tensor(actions, dtype=torch.float32).view(len(TASKS), 1, 4))
            records += [result.obs, result.reward, result.success]
            for raw in raws:
                geom = raw._get_id_main_object()
                original = SawyerXYZEnv.touching_object(raw, geom)
                assert touching_object_fast(raw, geom) == original
                touching += int(original)
            obs = result.obs
            if bool(result.done.any()):
                obs = env.reset(mask=result.done)
    finally:
        env.close()
    return records, touching


def test_fast_python_gives_identical_traces() -> None:
    fast, touching = _trace(True, 120)
    slow, _ = _trace(False, 120)
    assert touching > 0, "the trace never grasped: the fast grasp test was not exercised"
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert torch.equal(a, b)


def test_fast_python_is_the_default_and_recorded_only_in_code() -> None:
    env = MetaWorldVectorEnv("custom", ["reach-v3"], envs_per_task=1, seed=0)
    try:
        raw = env.vector_env.envs[0].unwrapped
        assert raw.touching_object.__func__ is touching_object_fast
    finally:
        env.close()
