"""`agent.sac.compile` / `agent.ppo.compile`: compiled updates give the eager numbers, and a compilation that fails
falls back to eager with one warning instead of stopping training."""

from __future__ import annotations

import warnings

import pytest
import torch

from mtrl.agents.ppo import MTPPO, Rollout
from mtrl.agents.ppo_config import PPOConfig
from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.compile import MaybeCompiled
from mtrl.config import load_config
from mtrl.nets.net_config import NetConfig
from mtrl.replay import TaskReplayBuffer
from mtrl.surgery import make_surgery


def _failing_backend(gm, example_inputs):  # noqa: ANN001, ANN202 - torch.compile backend signature
    raise RuntimeError("this backend cannot compile anything")


def test_failed_compilation_warns_once_and_runs_eagerly() -> None:
    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x) * 2 + 1

    fn = MaybeCompiled(f, True, "f", backend=_failing_backend)
    assert fn.compiled
    x = torch.linspace(-1, 1, 7)
    with pytest.warns(RuntimeWarning, match="torch.compile of f failed.*continuing eagerly"):
        out = fn(x)
    assert torch.equal(out, f(x))
    assert not fn.compiled and fn.error is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        assert torch.equal(fn(x), f(x))


def test_disabled_compile_is_the_plain_function() -> None:
    fn = MaybeCompiled(torch.cos, False, "cos")
    assert not fn.compiled
    assert torch.equal(fn(torch.ones(3)), torch.cos(torch.ones(3)))


def test_compile_switches_load_from_config() -> None:
    cfg = load_config(None, ["agent.sac.compile=true", "agent.ppo.compile=true"])
    assert cfg.agent.sac.compile and cfg.agent.ppo.compile
    assert not load_config(None).agent.sac.compile


def _sac(T: int, compile: bool, surgery: str = "mean") -> MTSAC:
    torch.manual_seed(0)
    cfg = SACConfig(actor=NetConfig(hidden_sizes=[32, 32]), critic=NetConfig(hidden_sizes=[32, 32]), compile=compile)
    return MTSAC(39, 4, T, cfg, make_surgery(surgery, T), make_surgery(surgery, T))


def _state(agent: MTSAC | MTPPO) -> list[torch.Tensor]:
    return [p.detach().clone() for p in [*agent.actor.parameters(), *agent.critic.parameters()]]


def _assert_same(eager: dict[str, torch.Tensor], compiled: dict[str, torch.Tensor]) -> None:
    assert eager.keys() == compiled.keys()
    for key in eager:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-4, atol=1e-5, msg=key)


@pytest.mark.slow
def test_compiled_sac_updates_match_eager() -> None:
    T = 3
    torch.manual_seed(1)
    buffer = TaskReplayBuffer(T, 128, 39, 4, "cpu")
    buffer.add(torch.randn(T, 128, 39), torch.rand(T, 128, 4) * 2 - 1, torch.rand(T, 128), torch.randn(T, 128, 39),
               (torch.rand(T, 128) < 0.1).float())
    results = {}
    for compile in (False, True):
        agent = _sac(T, compile)
        torch.manual_seed(2)
        metrics = [agent.update(buffer.sample(16)) for _ in range(3)]
        results[compile] = (metrics, _state(agent))
        if compile:  # it really ran compiled (no silent fallback)
            assert agent.target_q.compiled
            assert all(fn.compiled for fn in agent.critic_update._batched_losses.values())
            assert all(fn.compiled for fn in agent.actor_update._batched_losses.values())
    for eager, compiled in zip(results[False][0], results[True][0], strict=True):
        _assert_same(eager, compiled)
    for eager, compiled in zip(results[False][1], results[True][1], strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_compiled_ppo_update_matches_eager() -> None:
    T, S, E = 2, 8, 2
    results = {}
    for compile in (False, True):
        torch.manual_seed(0)
        net = NetConfig(hidden_sizes=[16])
        cfg = PPOConfig(actor=net, critic=NetConfig(hidden_sizes=[16]), epochs=2, minibatches=2, compile=compile)
        agent = MTPPO(3, 2, T, cfg, make_surgery("mean", T), make_surgery("mean", T))
        g = torch.Generator().manual_seed(3)
        obs, actions = torch.randn(S, T, E, 3, generator=g), torch.randn(S, T, E, 2, generator=g)
        log_probs, values = -torch.rand(S, T, E, generator=g), torch.randn(S, T, E, generator=g)
        advantages = torch.randn(S, T, E, generator=g)
        torch.manual_seed(4)
        metrics = agent.update(Rollout(obs, actions, log_probs, values, advantages, advantages + values))
        results[compile] = (metrics, _state(agent))
    _assert_same(results[False][0], results[True][0])
    for eager, compiled in zip(results[False][1], results[True][1], strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-6)


def test_jacobian_surgery_with_compile_still_updates() -> None:
    """Gradient-based methods keep their eager Jacobian path; only the target is compiled (here: a backend that
    fails, so the run also proves the fallback inside a real update)."""
    T = 2
    agent = _sac(T, False, surgery="pcgrad")
    agent.target_q = MaybeCompiled(agent._target_q, True, "the SAC target", backend=_failing_backend)
    buffer = TaskReplayBuffer(T, 32, 39, 4, "cpu")
    buffer.add(torch.randn(T, 32, 39), torch.rand(T, 32, 4) * 2 - 1, torch.rand(T, 32), torch.randn(T, 32, 39),
               torch.zeros(T, 32))
    before = _state(agent)
    with pytest.warns(RuntimeWarning, match="continuing eagerly"):
        out = agent.update(buffer.sample(8))
    assert torch.isfinite(out["critic_loss"]).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, _state(agent), strict=True))


def test_target_critics_stay_leaves_without_autograd_history() -> None:
    """The Polyak update runs without autograd: otherwise every update appends a node to the targets' history
    (a leak that also makes every compiled target computation recompile once)."""
    T = 2
    agent = _sac(T, False)
    buffer = TaskReplayBuffer(T, 32, 39, 4, "cpu")
    buffer.add(torch.randn(T, 32, 39), torch.rand(T, 32, 4) * 2 - 1, torch.rand(T, 32), torch.randn(T, 32, 39),
               torch.zeros(T, 32))
    before = [p.detach().clone() for p in agent.critic_target.parameters()]
    for _ in range(2):
        agent.update(buffer.sample(8))
    for p in agent.critic_target.parameters():
        assert p.is_leaf and not p.requires_grad and p.grad_fn is None
    assert any(not torch.equal(p, old) for p, old in zip(agent.critic_target.parameters(), before, strict=True))
