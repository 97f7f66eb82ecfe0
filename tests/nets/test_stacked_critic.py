"""Stacked twin critics: the same numbers as two separate networks, the same start, old checkpoints still load."""

import io

import pytest
import torch

from mtrl.agents.sac import MTSAC, TwinCritic
from mtrl.agents.sac_config import SACConfig
from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.stacked import StackedMLPNet
from mtrl.nets.task_batched import TaskBatched
from mtrl.surgery import make_surgery
from tests.helpers import A, D, T, filled_buffer, paired_updates

ARCHITECTURES = [("none", "per_task"), ("onehot", "shared"), ("embedding", "per_task"), ("embedding", "shared")]


@pytest.mark.parametrize("conditioning,heads", ARCHITECTURES)
def test_stacked_net_computes_each_member_in_both_views(conditioning, heads):
    """Member k of the stacked network is network k, in the task-batched view (direct call) and in the vmapped
    single-task view."""
    torch.manual_seed(0)
    cfg = NetConfig(hidden_sizes=[16, 8], conditioning=conditioning, heads=heads)
    members = [TaskConditionedNet(D, 3, T, cfg) for _ in range(2)]
    stacked = StackedMLPNet(members)
    x = torch.randn(T, 5, D)
    expected = torch.stack([TaskBatched(m, T)(x) for m in members], dim=1)  # (T, 2, 5, 3), vmapped per network
    batched = TaskBatched(stacked, T)
    assert batched.native
    torch.testing.assert_close(batched(x), expected)
    torch.testing.assert_close(batched.call(batched.shared, batched.task, x), expected)  # vmapped


def test_stacked_layout_puts_task_specific_parameters_first():
    """Heads and embeddings keep the leading task axis of task-specific parameters; trunk layers are shared."""
    cfg = NetConfig(hidden_sizes=[16, 8], conditioning="embedding", heads="per_task", task_embedding_dim=4)
    stacked = StackedMLPNet([TaskConditionedNet(D, 1, T, cfg) for _ in range(2)])
    batched = TaskBatched(stacked, T)
    assert set(batched.task) == {"head.weight", "head.bias", "task_embedding.weight"}
    assert batched.task["head.weight"].shape == (T, 2, 8, 1)
    assert batched.task["task_embedding.weight"].shape == (T, 2, 4)
    assert batched.shared["layers.0.weight"].shape == (2, D + 4, 16)


def test_only_plain_mlp_critics_are_stacked():
    for encoder, conditioning, stacked in [("mlp", "none", True), ("mlp", "onehot", True), ("mlp", "film", False),
                                           ("moe", "none", False)]:
        cfg = SACConfig(critic=NetConfig(hidden_sizes=[8], encoder=encoder, conditioning=conditioning))
        critic = TwinCritic(D, A, T, cfg)
        assert critic.stacked is stacked, (encoder, conditioning)
        assert hasattr(critic, "pair") is stacked and hasattr(critic, "q1") is not stacked


def test_mixing_separate_members_is_an_error():
    cfg = NetConfig(hidden_sizes=[8])
    with pytest.raises(ValueError, match="plain-MLP"):
        StackedMLPNet([TaskConditionedNet(D, 1, T, cfg), TaskConditionedNet(D, 1, T, NetConfig(encoder="moe"))])


@pytest.mark.parametrize("layer_norm", ["none", "pre", "post"])
@pytest.mark.parametrize("conditioning,heads", ARCHITECTURES)
def test_stacked_critic_starts_where_two_separate_networks_would(conditioning, heads, layer_norm, monkeypatch):
    """Same seed, same initial Q-functions: the stacked critic is built from the two networks it replaces (so a
    seed gives the same run as before stacking, up to float rounding)."""
    cfg = SACConfig(critic=NetConfig(hidden_sizes=[16, 16], conditioning=conditioning, heads=heads,
                                     layer_norm=layer_norm))
    torch.manual_seed(3)
    stacked = TwinCritic(D, A, T, cfg)
    monkeypatch.setattr(StackedMLPNet, "supports", staticmethod(lambda cfg: False))
    torch.manual_seed(3)
    separate = TwinCritic(D, A, T, cfg)
    assert stacked.stacked and not separate.stacked
    obs, action = torch.randn(T, 6, D), torch.rand(T, 6, A)
    q = TaskBatched(stacked, T)(obs, action)
    assert q.shape == (T, 2, 6)
    torch.testing.assert_close(q, TaskBatched(separate, T)(obs, action))


def saved_and_loaded(state):
    """``state`` through torch.save and torch.load, as a checkpoint file gives it (no tensor shared with the
    agent that wrote it: optimizers load their moments without copying)."""
    file = io.BytesIO()
    torch.save(state, file)
    file.seek(0)
    return torch.load(file, weights_only=False)


@pytest.mark.parametrize("method,layer_norm", [("mean", "none"), ("pcgrad", "none"), ("pcgrad", "pre")])
def test_an_agent_saved_with_separate_critics_resumes_with_stacked_ones(method, layer_norm, monkeypatch):
    """A state written before stacking (``critic.q1.*``, ``critic.q2.*``, Adam moments per network) loads into
    the stacked critic and continues the same training: the next updates match those of the original agent."""
    cfg = SACConfig(actor=NetConfig(hidden_sizes=[16, 16]),
                    critic=NetConfig(hidden_sizes=[16, 16], conditioning="onehot", layer_norm=layer_norm))
    buffer = filled_buffer()
    with monkeypatch.context() as m:
        m.setattr(StackedMLPNet, "supports", staticmethod(lambda cfg: False))
        torch.manual_seed(0)
        old = MTSAC(D, A, T, cfg, make_surgery(method, T), make_surgery(method, T))
    assert not old.critic.stacked
    for _ in range(2):  # some Adam state to carry over
        old.update(buffer.sample(16))
    state = saved_and_loaded(old.state_dict())
    assert any(k.startswith("q1.") for k in state["critic"])
    torch.manual_seed(1)
    new = MTSAC(D, A, T, cfg, make_surgery(method, T), make_surgery(method, T))
    assert new.critic.stacked
    new.load_state_dict(state)
    assert new.num_updates == old.num_updates
    obs, action = torch.randn(T, 6, D), torch.rand(T, 6, A)
    for net in ("critic_fn", "critic_target_fn"):
        torch.testing.assert_close(getattr(new, net)(obs, action), getattr(old, net)(obs, action))
    for a, b in paired_updates(old, new, buffer, 3):
        for key in ("critic_loss", "actor_loss", "q_mean", "alpha", "critic_grad_norm"):
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    # the optimizer's moments were carried over: a fresh optimizer would have taken other steps
    stacked_moments = new.critic_optimizer.state_dict()["state"]
    assert len(stacked_moments) == len(list(new.critic.parameters()))
    assert all(float(s["step"]) == 5 for s in stacked_moments.values())


def test_a_stacked_agent_state_round_trips():
    cfg = SACConfig(actor=NetConfig(hidden_sizes=[8]), critic=NetConfig(hidden_sizes=[8]))
    torch.manual_seed(0)
    agent = MTSAC(D, A, T, cfg, make_surgery("mean", T), make_surgery("mean", T))
    agent.update(filled_buffer().sample(8))
    other = MTSAC(D, A, T, cfg, make_surgery("mean", T), make_surgery("mean", T))
    other.load_state_dict(agent.state_dict())
    for a, b in zip(agent.critic.state_dict().values(), other.critic.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    broken = saved_and_loaded(agent.state_dict())
    del broken["critic"]["pair.layers.0.weight"]
    with pytest.raises(RuntimeError, match="pair.layers.0.weight"):
        other.load_state_dict(broken)


@pytest.mark.parametrize("method", ["pcgrad", "cagrad"])
def test_surgery_writes_gradients_in_each_parameters_layout(method):
    """Task-specific gradients can come out of autograd with permuted strides (the stacked heads' movedim); torch's
    fused Adam reads a gradient's memory as laid out like its parameter, so they must be written in that layout
    (the bug: a stacked head's Adam moments were those of other tasks)."""
    cfg = SACConfig(actor=NetConfig(hidden_sizes=[8]), critic=NetConfig(hidden_sizes=[8]))
    torch.manual_seed(0)
    agent = MTSAC(D, A, T, cfg, make_surgery(method, T), make_surgery(method, T))
    batch = filled_buffer().sample(8)
    agent.update(batch)
    for name, p in agent.critic.named_parameters():
        assert p.grad.stride() == p.stride(), name
