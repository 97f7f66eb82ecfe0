"""Per-task PopArt: the statistics, output preservation through an update (heads of MTSAC's online and target
critics, MTPPO's value head), losses on normalised targets, checkpoints, config errors, and learning."""

import io

import pytest
import torch

from mtrl.agents.ppo import MTPPO
from mtrl.agents.ppo_config import PPOConfig
from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.config import load_config
from mtrl.errors import ConfigError
from mtrl.nets.net_config import NetConfig
from mtrl.nets.popart import PopArt
from mtrl.surgery import make_surgery
from tests.helpers import ROOT, A, D, T, fake_rollout, filled_buffer


def _targets(n=32, seed=0):
    """(T, n) targets of very different scales per task."""
    g = torch.Generator().manual_seed(seed)
    scale = torch.tensor([1.0, 30.0, 300.0])[:, None]
    return scale * (1.0 + torch.randn(T, n, generator=g))


def test_statistics_follow_the_bias_corrected_running_moments():
    popart = PopArt(T, beta=0.1)
    first, second = _targets(seed=1), _targets(seed=2)
    popart.update(first, [])
    torch.testing.assert_close(popart.mean, first.mean(1))  # β_1 = 1: the first batch's moments
    torch.testing.assert_close(popart.std, first.std(1, unbiased=False), rtol=1e-4, atol=1e-4)
    popart.update(second, [])
    step = 0.1 / (1 - 0.9**2)
    mean = (1 - step) * first.mean(1) + step * second.mean(1)
    second_moment = (1 - step) * first.square().mean(1) + step * second.square().mean(1)
    torch.testing.assert_close(popart.mean, mean)
    torch.testing.assert_close(popart.std, (second_moment - mean.square()).sqrt(), rtol=1e-4, atol=1e-4)
    popart.update(torch.full((T, 4), 5.0), [])  # constant targets: σ stays at least MIN_STD, never NaN
    assert torch.isfinite(popart.std).all() and (popart.std > 0).all()


@pytest.mark.parametrize("member_shape", [(), (2,)])
def test_an_update_preserves_unnormalised_outputs(member_shape):
    """Per-task heads with any member axes (stacked twin critics: (T, 2, in, 1)) keep ``σ v̂ + μ`` exactly."""
    torch.manual_seed(0)
    popart = PopArt(T, beta=3e-4)
    weight = torch.randn(T, *member_shape, 5, 1, dtype=torch.float64)
    bias = torch.randn(T, *member_shape, 1, dtype=torch.float64)
    features = torch.randn(T, *member_shape, 9, 5, dtype=torch.float64)
    popart.double()
    for seed in range(3):  # the first update moves the statistics most (β_1 = 1)
        before = popart.unnormalize(features @ weight + bias.unsqueeze(-2))
        popart.update(_targets(seed=seed).double(), [(weight, bias)])
        after = popart.unnormalize(features @ weight + bias.unsqueeze(-2))
        torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(popart.mean, torch.zeros(T, dtype=torch.float64))


def _sac(encoder="mlp", popart=True):
    net = NetConfig(hidden_sizes=[16, 16], encoder=encoder, num_experts=2)
    cfg = SACConfig(actor=NetConfig(hidden_sizes=[16]), critic=net, popart=popart)
    return MTSAC(D, A, T, cfg, make_surgery("mean", T), make_surgery("mean", T))


@pytest.mark.parametrize("encoder", ["mlp", "moore"])  # stacked twin critics, and two separate networks
def test_sac_popart_step_preserves_online_and_target_q_values(encoder):
    torch.manual_seed(0)
    agent = _sac(encoder)
    assert agent.critic.stacked is (encoder == "mlp")
    with torch.no_grad():  # a target critic that differs from the online one
        for p in agent.critic_target.parameters():
            p.add_(0.1 * torch.randn_like(p))
    obs, action = torch.randn(T, 6, D), torch.rand(T, 6, A) * 2 - 1
    before = [agent.popart.unnormalize(fn(obs, action)) for fn in (agent.critic_fn, agent.critic_target_fn)]
    targets, actor_alpha = agent._popart_step(_targets(), torch.ones(T), {})
    after = [agent.popart.unnormalize(fn(obs, action)) for fn in (agent.critic_fn, agent.critic_target_fn)]
    for a, b in zip(after, before, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(targets, agent.popart.normalize(_targets()))
    assert targets.abs().mean() < 3.0  # normalised: unit scale for every task, whatever its returns' scale
    torch.testing.assert_close(actor_alpha, 1.0 / agent.popart.std)


def test_sac_update_regresses_normalised_targets_built_from_unnormalised_values():
    torch.manual_seed(0)
    agent = _sac()
    batch = filled_buffer().sample(8)
    batch.reward.mul_(100.0)
    metrics = agent.update(batch)
    assert metrics["popart_mean"].shape == (T,) and metrics["popart_std"].shape == (T,)
    # targets of scale ~100 (TD targets of the rewards): statistics near them, losses in normalised units
    assert (metrics["popart_std"] > 10).all()
    assert (metrics["critic_loss"] < 20).all(), metrics["critic_loss"]
    plain = _sac(popart=False)
    assert (plain.update(batch)["critic_loss"] > 1000).all()  # the same targets without PopArt


def test_ppo_values_are_unnormalised_and_preserved_through_the_update():
    torch.manual_seed(0)
    net = NetConfig(hidden_sizes=[16])
    cfg = PPOConfig(actor=net, critic=NetConfig(hidden_sizes=[16]), epochs=1, minibatches=2, popart=True, lr=0.0)
    agent = MTPPO(3, 2, 2, cfg, make_surgery("mean", 2), make_surgery("mean", 2))
    rollout = fake_rollout(agent)
    rollout.returns.mul_(200.0).add_(50.0)
    obs = torch.randn(2, 5, 3)
    before = agent.value(obs)
    torch.testing.assert_close(before, agent.critic_fn(obs))  # σ = 1, μ = 0 before the first update
    metrics = agent.update(rollout)  # lr 0: only PopArt moves the head
    torch.testing.assert_close(agent.value(obs), before, rtol=1e-5, atol=1e-4)
    assert not torch.allclose(agent.critic_fn(obs), before)  # the head's outputs are normalised now
    returns = rollout.returns.transpose(0, 1).reshape(2, -1)
    torch.testing.assert_close(metrics["popart_mean"], returns.mean(1))
    assert (metrics["critic_loss"] < 5).all()  # on normalised returns (raw ones: ~200² / 4)


def _round_trip(state):
    file = io.BytesIO()
    torch.save(state, file)
    file.seek(0)
    return torch.load(file, weights_only=False)


def test_checkpoints_round_trip_the_statistics_and_refuse_a_mismatch():
    torch.manual_seed(0)
    agent = _sac()
    agent.update(filled_buffer().sample(8))
    state = _round_trip(agent.state_dict())
    other = _sac()
    other.load_state_dict(state)
    for name in ("mean", "second_moment", "updates"):
        assert torch.equal(getattr(other.popart, name), getattr(agent.popart, name)), name
    obs, action = torch.randn(T, 4, D), torch.rand(T, 4, A)
    torch.testing.assert_close(other.popart.unnormalize(other.critic_fn(obs, action)),
                               agent.popart.unnormalize(agent.critic_fn(obs, action)))
    plain = _sac(popart=False)
    untouched = [p.clone() for p in plain.critic.parameters()]
    with pytest.raises(ValueError, match="popart"):
        plain.load_state_dict(state)
    assert all(torch.equal(p, q) for p, q in zip(plain.critic.parameters(), untouched, strict=True))
    with pytest.raises(ValueError, match="popart"):
        other.load_state_dict(_round_trip(plain.state_dict()))
    ppo_cfg = PPOConfig(actor=NetConfig(hidden_sizes=[8]), critic=NetConfig(hidden_sizes=[8]), epochs=1,
                        minibatches=2, popart=True)
    ppo = MTPPO(3, 2, 2, ppo_cfg, make_surgery("mean", 2), make_surgery("mean", 2))
    ppo.update(fake_rollout(ppo))
    ppo_other = MTPPO(3, 2, 2, ppo_cfg, make_surgery("mean", 2), make_surgery("mean", 2))
    ppo_other.load_state_dict(_round_trip(ppo.state_dict()))
    assert torch.equal(ppo_other.popart.mean, ppo.popart.mean) and ppo_other.popart.updates == 1


@pytest.mark.parametrize("overrides,message", [
    (["agent.sac.popart=true", "agent.sac.critic.heads=shared"], "agent.sac.popart needs critic.heads: per_task"),
    (["agent.ppo.popart_beta=0"], "agent.ppo.popart_beta must be in"),
    (["agent.ppo.critic.layer_norm=batch"], "agent.ppo.critic.layer_norm: unknown layer_norm"),
])
def test_bad_popart_settings_are_config_errors_naming_the_field(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "configs" / "synthetic.yaml", overrides)
    with pytest.raises(ValueError, match="popart needs critic.heads"):
        _sac_shared = SACConfig(critic=NetConfig(hidden_sizes=[8], heads="shared"), popart=True)
        MTSAC(D, A, T, _sac_shared, make_surgery("mean", T), make_surgery("mean", T))


# MOORE with PopArt at the default critic lr (its bounded features need it) is a case of tests/nets/test_learning.py


@pytest.mark.slow
@pytest.mark.parametrize("config,overrides", [
    ("synthetic.yaml", ["agent.sac.popart=true"]),
    ("synthetic_ppo.yaml", ["agent.ppo.popart=true"]),
], ids=["mtsac", "mtppo"])
def test_popart_agents_learn_the_synthetic_benchmark(tmp_path, config, overrides):
    from mtrl.train import train

    cfg = load_config(ROOT / "configs" / config, [f"run_dir={tmp_path / 'run'}", "train.progress=false", *overrides])
    _, result = train(cfg)
    assert result.mean_success >= 0.9, result.per_task
