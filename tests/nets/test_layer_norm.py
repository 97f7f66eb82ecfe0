"""LayerNorm in the MLP trunk (``layer_norm: pre | post``): placement, stacked twin critics, and per-task gradients
of its affine parameters from the per-layer path, equal to the vmapped ones."""

import pytest
import torch

from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.norm import StackedLayerNorm
from mtrl.nets.stacked import StackedMLPNet
from mtrl.nets.task_batched import TaskBatched
from mtrl.surgery import make_surgery
from mtrl.task_gradients import LinearTaskGradients, per_task_gradients
from tests.helpers import A, D, T, assert_per_layer_gradients_match_autograd, filled_buffer


def _randomize_norms(module: torch.nn.Module) -> None:
    """Move the LayerNorms' affine parameters off their (1, 0) start, so their gradients are not special."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (torch.nn.LayerNorm, StackedLayerNorm)):
                for p in m.parameters():
                    p.add_(0.3 * torch.randn_like(p))


@pytest.mark.parametrize("layer_norm", ["pre", "post"])
def test_mlp_places_the_layer_norm_before_or_after_the_activation(layer_norm):
    torch.manual_seed(0)
    net = TaskConditionedNet(D, 2, T, NetConfig(hidden_sizes=[8], layer_norm=layer_norm))
    _randomize_norms(net)
    linear, norm = net.encoder.net[0], next(m for m in net.encoder.net if isinstance(m, torch.nn.LayerNorm))
    x = torch.randn(5, D)
    pre = linear(x)
    hand = torch.relu(norm(pre)) if layer_norm == "pre" else norm(torch.relu(pre))
    torch.testing.assert_close(net.encoder(x), hand)
    names = [type(m).__name__ for m in net.encoder.net]
    assert names == (["Linear", "LayerNorm", "ReLU"] if layer_norm == "pre" else ["Linear", "ReLU", "LayerNorm"])


def test_film_trunk_with_layer_norm_starts_as_the_plain_trunk():
    """FiLM's generator starts at zero, so at initialisation the FiLM trunk with LayerNorm is the plain one."""
    torch.manual_seed(0)
    for layer_norm in ("pre", "post"):
        film = TaskConditionedNet(D, 2, T, NetConfig(hidden_sizes=[8, 8], conditioning="film", task_embedding_dim=4,
                                                     layer_norm=layer_norm))
        plain = TaskConditionedNet(D, 2, T, NetConfig(hidden_sizes=[8, 8], layer_norm=layer_norm))
        _randomize_norms(film)
        linears = [m for m in plain.encoder.net if isinstance(m, torch.nn.Linear)]
        norms = [m for m in plain.encoder.net if isinstance(m, torch.nn.LayerNorm)]
        for mine, theirs in zip([*linears, *norms], [*film.encoder.layers, *film.encoder.norms], strict=True):
            mine.load_state_dict(theirs.state_dict())
        film.head.load_state_dict(plain.head.state_dict())
        x = torch.randn(T, 5, D)
        torch.testing.assert_close(TaskBatched(film, T)(x), TaskBatched(plain, T)(x))


def test_bad_layer_norm_settings_are_errors_naming_the_field():
    with pytest.raises(ValueError, match="layer_norm 'batch'"):
        NetConfig(layer_norm="batch").validate()
    with pytest.raises(ValueError, match="layer_norm 'pre'.*encoder 'mlp'"):
        NetConfig(layer_norm="pre", encoder="moe").validate()


@pytest.mark.parametrize("layer_norm", ["pre", "post"])
@pytest.mark.parametrize("conditioning,heads", [("none", "per_task"), ("onehot", "shared"), ("embedding", "per_task")])
def test_stacked_members_with_layer_norm_are_the_separate_networks(layer_norm, conditioning, heads):
    torch.manual_seed(0)
    cfg = NetConfig(hidden_sizes=[16, 8], conditioning=conditioning, heads=heads, layer_norm=layer_norm)
    members = [TaskConditionedNet(D, 3, T, cfg) for _ in range(2)]
    for m in members:
        _randomize_norms(m)
    stacked = StackedMLPNet(members)
    assert [tuple(p.shape) for p in stacked.norms.parameters()] == [(2, 16), (2, 16), (2, 8), (2, 8)]
    x = torch.randn(T, 5, D)
    expected = torch.stack([TaskBatched(m, T)(x) for m in members], dim=1)
    batched = TaskBatched(stacked, T)
    torch.testing.assert_close(batched(x), expected)
    torch.testing.assert_close(batched.call(batched.shared, batched.task, x), expected)  # vmapped


def _assert_same_task_gradients(layered, vmapped):
    assert torch.allclose(layered.losses, vmapped.losses, atol=1e-6)
    assert list(layered.shared) == list(vmapped.shared) and list(layered.task) == list(vmapped.task)
    for name in vmapped.shared:
        assert torch.allclose(layered.shared[name], vmapped.shared[name], atol=1e-5), name
    for name in vmapped.task:
        assert torch.allclose(layered.task[name], vmapped.task[name], atol=1e-5), name


@pytest.mark.parametrize("layer_norm", ["pre", "post"])
@pytest.mark.parametrize("conditioning", ["none", "embedding"])
def test_layer_norm_task_gradients_of_the_per_layer_path_equal_the_vmapped_ones(layer_norm, conditioning):
    """Stacked twin critics and the plain-MLP actor, with LayerNorm: the per-layer path applies (no vmap) and gives
    the vmapped per-task gradients of every parameter, the LayerNorms' weights and biases included."""
    torch.manual_seed(0)
    net = NetConfig(hidden_sizes=[16, 16], conditioning=conditioning, layer_norm=layer_norm)
    agent = MTSAC(D, A, T, SACConfig(actor=net, critic=net), make_surgery("pcgrad", T), make_surgery("pcgrad", T))
    _randomize_norms(agent.critic)
    _randomize_norms(agent.actor)
    assert agent.critic.stacked
    critic, actor = agent.critic_fn, agent.actor_fn
    for fn in (critic, actor):  # LayerNorm weights and biases among the shared parameters
        owners = [fn.module.get_submodule(name.rpartition(".")[0]) for name in fn.shared]
        assert sum(isinstance(m, (torch.nn.LayerNorm, StackedLayerNorm)) for m in owners) == 4
    assert LinearTaskGradients.applies_to(critic) and LinearTaskGradients.applies_to(actor)
    assert agent.critic_update._linear_gradients is not None and agent.actor_update._linear_gradients is not None
    batch = filled_buffer().sample(8)
    target = torch.randn(T, 8)
    _assert_same_task_gradients(
        LinearTaskGradients(critic)(agent._critic_losses_batched, (batch.obs, batch.action, target)),
        per_task_gradients(agent._critic_loss, critic.shared, critic.task,
                           (batch.obs, batch.action, target, critic.task_onehots())))
    noise, alpha = torch.randn(T, 8, A), torch.rand(T)
    critic_shared = {k: v.detach() for k, v in critic.shared.items()}
    critic_task = {k: v.detach() for k, v in critic.task.items()}
    _assert_same_task_gradients(
        LinearTaskGradients(actor)(agent._actor_losses_batched, (batch.obs, noise, alpha)),
        per_task_gradients(agent._actor_loss, actor.shared, actor.task,
                           (batch.obs, noise, alpha, critic_shared, critic_task, actor.task_onehots()),
                           in_dims=(0, 0, 0, None, 0, 0)))


def test_a_layer_norm_called_twice_adds_up_both_calls():
    class Twice(torch.nn.Module):
        task_batched_forward = True

        def __init__(self):
            super().__init__()
            self.norm = torch.nn.LayerNorm(4)

        def forward(self, x, onehot):
            return self.norm(torch.tanh(self.norm(x)) * 3.0)

    torch.manual_seed(0)
    net = TaskBatched(Twice(), T)
    _randomize_norms(net.module)
    x = torch.randn(T, 5, 4)

    def losses_fn(x_):
        return (net(x_) ** 2 * torch.arange(4.0)).mean(dim=(1, 2)), None

    assert_per_layer_gradients_match_autograd(net, losses_fn, (x,), ["norm.weight", "norm.bias"])

