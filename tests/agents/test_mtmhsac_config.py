"""The reference-matched MTMHSAC configs (the Meta-World+ JAX baselines, docs/mtmhsac_reference.md) and the SAC
options they need: He-uniform init with small uniform heads, clipped log-std, the twin critics' mean loss, Adam's
epsilon."""

from __future__ import annotations

import math

import pytest
import torch

from mtrl.agents.sac import MTSAC, Actor
from mtrl.agents.sac_config import SACConfig
from mtrl.config import load_config
from mtrl.errors import ConfigError
from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.surgery import make_surgery
from tests.helpers import ROOT

CONFIGS = ROOT / "configs"

# rainx0r/metaworld-algorithms: examples/multi_task/mtmhsac_mt10.py and metaworld_algorithms/config/
REFERENCE_MT10 = {
    "env.benchmark": "MT10",
    "env.reward_function_version": "v2",
    "env.max_episode_steps": 500,
    "agent.name": "mtsac",
    "agent.sac.actor_lr": 3e-4,
    "agent.sac.critic_lr": 3e-4,
    "agent.sac.alpha_lr": 3e-4,
    "agent.sac.adam_eps": 1e-5,
    "agent.sac.gamma": 0.99,
    "agent.sac.tau": 0.005,
    "agent.sac.batch_size_per_task": 128,
    "agent.sac.init_temperature": 1.0,
    "agent.sac.target_entropy": -4.0,
    "agent.sac.max_grad_norm": 1.0,
    "agent.sac.log_std_min": -20.0,
    "agent.sac.log_std_max": 2.0,
    "agent.sac.log_std_bound": "clip",
    "agent.sac.twin_loss": "mean",
    "agent.sac.actor_update_every": 1,
    "agent.sac.target_update_every": 1,
    "agent.sac.actor.hidden_sizes": [400, 400, 400],
    "agent.sac.actor.activation": "relu",
    "agent.sac.actor.heads": "per_task",
    "agent.sac.actor.encoder": "mlp",
    "agent.sac.actor.conditioning": "onehot",
    "agent.sac.actor.init": "he_uniform",
    "agent.sac.actor.head_init_bound": 1e-3,
    "agent.sac.critic.hidden_sizes": [400, 400, 400],
    "agent.sac.critic.activation": "relu",
    "agent.sac.critic.heads": "per_task",
    "agent.sac.critic.encoder": "mlp",
    "agent.sac.critic.conditioning": "onehot",
    "agent.sac.critic.init": "he_uniform",
    "agent.sac.critic.head_init_bound": 3e-3,
    "surgery.name": "mean",
    "train.total_steps_per_task": 2_000_000,
    "train.random_steps_per_task": 4000,
    "train.updates_per_step": 1,
    "train.buffer_capacity_per_task": 100_000,
    "train.eval_every": 20_000,
    "train.eval_episodes": 50,
}


def _get(cfg, dotted: str):
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def test_mt10_mtmhsac_has_the_reference_values():
    cfg = load_config(CONFIGS / "mt10_mtmhsac.yaml")
    wrong = {k: (_get(cfg, k), v) for k, v in REFERENCE_MT10.items() if _get(cfg, k) != pytest.approx(v)}
    assert not wrong, f"(ours, reference): {wrong}"


@pytest.mark.parametrize("name,benchmark,width", [
    ("mt50_mtmhsac", "MT50", 400), ("mt10_mtmhsac_w1024", "MT10", 1024), ("mt10_mtmhsac_w2048", "MT10", 2048),
    ("mt50_mtmhsac_w1024", "MT50", 1024), ("mt50_mtmhsac_w2048", "MT50", 2048),
])
def test_mtmhsac_variants_differ_from_mt10_only_in_benchmark_and_width(name, benchmark, width):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    expected = {**REFERENCE_MT10, "env.benchmark": benchmark, "agent.sac.actor.hidden_sizes": [width] * 3,
                "agent.sac.critic.hidden_sizes": [width] * 3}
    wrong = {k: (_get(cfg, k), v) for k, v in expected.items() if _get(cfg, k) != pytest.approx(v)}
    assert not wrong, f"(ours, expected): {wrong}"


@pytest.mark.parametrize("name", ["mt10_mtsac", "mt50_mtsac"])
def test_mtsac_configs_feed_the_task_id_to_the_trunk(name):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert cfg.agent.sac.actor.conditioning == "onehot" and cfg.agent.sac.critic.conditioning == "onehot"


def test_arch_configs_say_why_they_do_not_feed_the_one_hot():
    for path in sorted(CONFIGS.glob("arch_*.yaml")):
        cfg = load_config(path)
        if cfg.agent.sac.actor.conditioning == "none":
            assert "No one-hot in the trunk" in path.read_text(), path.name


def _linear_layers(net: TaskConditionedNet) -> list[torch.nn.Linear]:
    return [m for m in net.encoder.modules() if isinstance(m, torch.nn.Linear)]


def test_he_uniform_init_and_small_uniform_heads():
    torch.manual_seed(0)
    cfg = NetConfig(hidden_sizes=[256, 256], init="he_uniform", head_init_bound=1e-3, conditioning="onehot")
    net = TaskConditionedNet(39, 8, 10, cfg)
    layers = _linear_layers(net)
    assert [m.in_features for m in layers] == [49, 256]
    for m in layers:
        bound = math.sqrt(6.0 / m.in_features)
        assert m.weight.abs().max() <= bound
        assert m.weight.abs().max() > 0.9 * bound  # spans the He range, not nn.Linear's 1/sqrt(fan_in)
        assert m.weight.var().item() == pytest.approx(2.0 / m.in_features, rel=0.1)  # He: Var = 2 / fan_in
        assert torch.count_nonzero(m.bias) == 0
    assert net.head.weight.abs().max() <= 1e-3 and net.head.bias.abs().max() <= 1e-3
    assert net.head.bias.abs().max() > 0  # the heads' biases are drawn too


def test_he_uniform_head_without_bound_and_default_init_unchanged():
    torch.manual_seed(0)
    he = TaskConditionedNet(39, 8, 10, NetConfig(hidden_sizes=[64], init="he_uniform"))
    assert he.head.weight.abs().max() <= math.sqrt(6.0 / 64) and torch.count_nonzero(he.head.bias) == 0
    torch.manual_seed(0)
    default = TaskConditionedNet(39, 8, 10, NetConfig(hidden_sizes=[64]))
    (layer,) = _linear_layers(default)
    assert layer.weight.abs().max() <= 1 / math.sqrt(39) and torch.count_nonzero(layer.bias) == 64
    torch.manual_seed(0)
    assert torch.equal(torch.nn.Linear(39, 64).weight, layer.weight)  # torch_default: nn.Linear's own draw


def test_he_uniform_reaches_expert_layers():
    torch.manual_seed(0)
    net = TaskConditionedNet(39, 8, 10, NetConfig(encoder="moore", hidden_sizes=[128, 128], init="he_uniform"))
    stacked = [m for m in net.encoder.modules() if type(m).__name__ == "StackedLinear"]
    assert stacked
    for m in stacked:
        fan_in = m.weight.shape[-2]
        assert m.weight.var().item() == pytest.approx(2.0 / fan_in, rel=0.1)
        assert torch.count_nonzero(m.bias) == 0


def test_stacked_twin_critic_keeps_the_members_init():
    torch.manual_seed(0)
    cfg = load_config(CONFIGS / "mt10_mtmhsac.yaml").agent.sac
    agent = MTSAC(39, 4, 10, cfg, make_surgery("mean", 10), make_surgery("mean", 10))
    assert agent.critic.stacked
    pair = agent.critic.pair
    assert pair.layers[0].weight.shape == (2, 39 + 4 + 10, 400)  # obs, action and the one-hot
    for layer in pair.layers:
        fan_in = layer.weight.shape[-2]
        assert layer.weight.abs().max() <= math.sqrt(6.0 / fan_in)
        assert layer.weight.var().item() == pytest.approx(2.0 / fan_in, rel=0.1)
        assert torch.count_nonzero(layer.bias) == 0
    assert not torch.equal(pair.layers[0].weight[0], pair.layers[0].weight[1])  # two independent critics
    assert pair.head.weight.abs().max() <= 3e-3 and pair.head.bias.abs().max() <= 3e-3
    for optimizer in (agent.actor_optimizer, agent.critic_optimizer, agent.alpha_optimizer):
        assert optimizer.param_groups[0]["eps"] == 1e-5


def test_log_std_clip_clamps_and_tanh_rescales():
    torch.manual_seed(0)
    clip = Actor(3, 2, 1, SACConfig(log_std_bound="clip", log_std_min=-20.0, log_std_max=2.0,
                                    actor=NetConfig(hidden_sizes=[8], heads="shared")))
    tanh = Actor(3, 2, 1, SACConfig(log_std_min=-20.0, log_std_max=2.0,
                                    actor=NetConfig(hidden_sizes=[8], heads="shared")))
    tanh.load_state_dict(clip.state_dict())
    with torch.no_grad():
        clip.net.head.bias.copy_(torch.tensor([0.0, 0.0, 5.0, -0.5]))
        tanh.net.head.bias.copy_(clip.net.head.bias)
        clip.net.head.weight.zero_()
        tanh.net.head.weight.zero_()
    onehot = torch.ones(1)
    _, log_std_clip = clip(torch.zeros(1, 3), onehot)
    _, log_std_tanh = tanh(torch.zeros(1, 3), onehot)
    assert log_std_clip.tolist() == [[2.0, -0.5]]  # clamped above, unchanged inside
    assert log_std_tanh[0, 1].item() == pytest.approx(-20.0 + 11.0 * (math.tanh(-0.5) + 1))


def test_twin_loss_mean_halves_the_critic_objective():
    q, target = torch.tensor([[1.0, 2.0], [3.0, 5.0]]), torch.tensor([0.0, 1.0])
    summed = MTSAC(3, 2, 1, SACConfig(), make_surgery("mean", 1), make_surgery("mean", 1))
    mean = MTSAC(3, 2, 1, SACConfig(twin_loss="mean"), make_surgery("mean", 1), make_surgery("mean", 1))
    expected_sum = (1 + 1) / 2 + (9 + 16) / 2
    assert summed._critic_objective(q, target).item() == pytest.approx(expected_sum)
    assert mean._critic_objective(q, target).item() == pytest.approx(expected_sum / 2)


@pytest.mark.parametrize("override,field", [
    ("agent.sac.log_std_bound=soft", "agent.sac.log_std_bound"),
    ("agent.sac.twin_loss=max", "agent.sac.twin_loss"),
    ("agent.sac.adam_eps=0", "agent.sac.adam_eps"),
    ("agent.sac.actor.init=xavier", "agent.sac.actor"),
    ("agent.sac.critic.head_init_bound=-0.1", "agent.sac.critic"),
])
def test_bad_sac_values_are_errors_naming_the_field(override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_config(CONFIGS / "mt10_mtmhsac.yaml", [override])
