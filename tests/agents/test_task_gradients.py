"""The per-task gradient engine: vmap gradients equal per-task autograd; the surgery seam writes the right grads."""

import copy

import pytest
import torch

from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.task_batched import TaskBatched, split_parameters
from mtrl.surgery import make_surgery
from mtrl.task_gradients import SurgeryUpdate, last_layer_columns, per_task_gradients
from tests.helpers import A, D, T, assert_per_layer_gradients_match_autograd, filled_buffer, paired_updates


def small_cfg(heads: str = "per_task", onehot: bool = False) -> SACConfig:
    conditioning = "onehot" if onehot else "none"
    net = NetConfig(hidden_sizes=[16, 16], heads=heads, conditioning=conditioning)
    return SACConfig(actor=net, critic=NetConfig(hidden_sizes=[16, 16], heads=heads, conditioning=conditioning))


@pytest.mark.parametrize("heads,onehot", [("per_task", False), ("shared", True), ("per_task", True)])
def test_vmap_per_task_gradients_equal_autograd_per_task(heads, onehot):
    torch.manual_seed(0)
    agent = MTSAC(D, A, T, small_cfg(heads, onehot), make_surgery("mean", T), make_surgery("mean", T))
    batch = filled_buffer().sample(8)
    target = torch.randn(T, 8)
    onehots = torch.eye(T)
    net = agent.critic_fn
    grads = per_task_gradients(agent._critic_loss, net.shared, net.task, (batch.obs, batch.action, target, onehots))
    assert grads.losses.shape == (T,)
    for t in range(T):
        task_t = {k: v[t] for k, v in net.task.items()}
        loss, _ = agent._critic_loss(net.shared, task_t, batch.obs[t], batch.action[t], target[t], onehots[t])
        assert torch.allclose(grads.losses[t], loss.detach(), atol=1e-6)
        ref_shared = torch.autograd.grad(loss, list(net.shared.values()), retain_graph=True)
        for (name, g), ref in zip(grads.shared.items(), ref_shared, strict=True):
            assert torch.allclose(g[t], ref, atol=1e-5), name
        if net.task:
            ref_task = torch.autograd.grad(loss, list(net.task.values()))
            for (name, g), ref in zip(grads.task.items(), ref_task, strict=True):
                assert torch.allclose(g[t], ref[t], atol=1e-5), name
                others = [i for i in range(T) if i != t]
                assert ref[others].abs().max() == 0, "a task's loss must not touch other tasks' heads"


def test_shared_and_task_specific_split():
    net = TaskConditionedNet(D, 4, T, NetConfig(hidden_sizes=[8, 8]))
    shared, task = split_parameters(net)
    assert set(task) == {"head.weight", "head.bias"}
    assert all(v.shape[0] == T for v in task.values())
    assert set(shared) == {"encoder.net.0.weight", "encoder.net.0.bias", "encoder.net.2.weight", "encoder.net.2.bias"}
    cols = last_layer_columns(shared)
    assert cols.stop - cols.start == 8 * 8 + 8  # the last shared Linear


def test_task_batched_forward_matches_per_task_forward():
    torch.manual_seed(0)
    net = TaskConditionedNet(D, 4, T, NetConfig(hidden_sizes=[8], conditioning="onehot"))
    x = torch.randn(T, 5, D)
    out = TaskBatched(net, T)(x)
    for t in range(T):
        w, b = net.head.weight[t], net.head.bias[t]
        h = net.encoder(torch.cat([x[t], torch.eye(T)[t].expand(5, -1)], -1))
        assert torch.allclose(out[t], h @ w + b, atol=1e-6)


@pytest.mark.parametrize("conditioning", ["none", "onehot", "embedding"])
@pytest.mark.parametrize("heads", ["per_task", "shared"])
def test_task_batched_view_equals_the_vmapped_single_task_view(conditioning, heads):
    torch.manual_seed(0)
    net = TaskConditionedNet(D, 4, T, NetConfig(hidden_sizes=[8, 8], heads=heads, conditioning=conditioning))
    batched = TaskBatched(net, T)
    assert batched.native
    x = torch.randn(T, 5, D)
    direct = batched(x)  # the module called on (T, B, D)
    vmapped = batched.call(batched.shared, batched.task, x)
    assert direct.shape == (T, 5, 4) and torch.equal(direct, vmapped)


@pytest.mark.parametrize("encoder,conditioning", [("moe", "none"), ("mlp", "film")])
def test_other_encoders_keep_the_vmapped_view(encoder, conditioning):
    net = TaskConditionedNet(D, 4, T, NetConfig(hidden_sizes=[8], encoder=encoder, conditioning=conditioning))
    assert not TaskBatched(net, T).native


def close(a, b, msg=None):
    """Equal up to float32 rounding accumulated over a few updates."""
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=msg)


@pytest.mark.parametrize("num_tasks,conditioning", [(T, "none"), (T, "onehot"), (T, "embedding"), (1, "none")])
def test_direct_and_vmapped_plain_paths_give_the_same_updates(num_tasks, conditioning):
    """With mean, MTSAC's losses run on the modules directly (task-batched view); forcing the vmapped
    single-task losses must give the same updates, and the actor's step must leave the critic's gradients alone
    (the critic is a constant of the actor loss). Equal up to float rounding, not bit for bit: the stacked twin
    critics' batched matmuls are blocked differently under vmap (differences of ~1e-8 seen)."""
    torch.manual_seed(0)
    net = NetConfig(hidden_sizes=[16, 16], conditioning=conditioning)
    cfg = SACConfig(actor=net, critic=NetConfig(hidden_sizes=[16, 16], conditioning=conditioning))
    direct = MTSAC(D, A, num_tasks, cfg, make_surgery("mean", num_tasks), make_surgery("mean", num_tasks))
    vmapped = copy.deepcopy(direct)
    for fn in (vmapped.actor_fn, vmapped.critic_fn, vmapped.critic_target_fn):
        fn.native = False
    assert direct.actor_fn.native and direct.critic_fn.native
    for a, b in paired_updates(direct, vmapped, filled_buffer(num_tasks)):
        for key in ("critic_loss", "actor_loss", "q_mean", "entropy", "alpha", "critic_grad_norm"):
            close(a[key], b[key], msg=key)
    for p, q in zip(direct.critic.parameters(), vmapped.critic.parameters(), strict=True):
        close(p, q)
        close(p.grad, q.grad)
    for p, q in zip(direct.actor.parameters(), vmapped.actor.parameters(), strict=True):
        close(p, q)
    obs = torch.randn(num_tasks, 4, D)
    close(direct.act(obs, deterministic=True), vmapped.act(obs, deterministic=True))


@pytest.mark.parametrize("method", ["mean", "pcgrad"])
def test_plain_and_jacobian_paths_agree_for_the_mean(method):
    """mean takes the plain path (one backward); forcing the Jacobian path must give the same update."""
    torch.manual_seed(0)
    cfg = small_cfg()
    plain = MTSAC(D, A, T, cfg, make_surgery("mean", T), make_surgery("mean", T))
    jac_mean = make_surgery("mean", T)
    jac_mean.needs_jacobian = True  # force the per-task-gradient path
    jac_critic = make_surgery("mean", T)
    jac_critic.needs_jacobian = True
    other = MTSAC(D, A, T, cfg, jac_mean, jac_critic)
    other.actor.load_state_dict(plain.actor.state_dict())
    other.critic.load_state_dict(plain.critic.state_dict())
    other.critic_target.load_state_dict(plain.critic_target.state_dict())
    batch = filled_buffer().sample(16)
    torch.manual_seed(1)
    plain.update(batch)
    torch.manual_seed(1)
    other.update(batch)
    for a, b in zip(plain.critic.parameters(), other.critic.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    for a, b in zip(plain.actor.parameters(), other.actor.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_surgery_direction_reaches_shared_grads_and_weights_reach_heads():
    torch.manual_seed(0)
    net = TaskConditionedNet(D, 1, T, NetConfig(hidden_sizes=[8]))
    batched = TaskBatched(net, T)
    surgery = make_surgery("pcgrad", T, seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    x, y = torch.randn(T, 4, D), torch.randn(T, 4)

    def loss_fn(shared, task, x_t, y_t, onehot):
        return ((batched.single_task_fn()(shared, task, x_t, onehot).squeeze(-1) - y_t) ** 2).mean(), None

    grads = per_task_gradients(loss_fn, batched.shared, batched.task, (x, y, torch.eye(T)))
    expected = surgery.combine(grads.jacobian(), grads.losses)
    update = SurgeryUpdate(batched, make_surgery("pcgrad", T, seed=0), opt, max_grad_norm=0.0)
    update(loss_fn, (x, y, torch.eye(T)))
    written = torch.cat([p.grad.reshape(-1) for p in batched.shared.values()])
    assert torch.allclose(written, expected.direction, atol=1e-6)
    for name, p in batched.task.items():
        scaled = grads.task[name] * expected.task_weights.view(-1, *([1] * (p.dim() - 1)))
        assert torch.allclose(p.grad, scaled, atol=1e-6)


@pytest.mark.parametrize("method", ["pcgrad", "cagrad", "mgda", "upgrad", "nash_mtl", "imtl_g", "aligned_mtl",
                                    "config", "gradvac"])
def test_gramian_methods_on_parameter_blocks_equal_the_concatenated_jacobian(method):
    """Gramian-weighted methods never assemble the (T, P) Jacobian: ``G = Σ_b J_b J_bᵀ`` and ``w @ J_b`` per
    parameter must give what ``combine`` gives on the concatenation (up to float32 rounding)."""
    from mtrl.task_gradients import write_surgery_gradients

    torch.manual_seed(0)
    net = TaskConditionedNet(D, 2, T, NetConfig(hidden_sizes=[16, 16]))
    batched = TaskBatched(net, T)
    x, y = torch.randn(T, 6, D), torch.randn(T, 6, 2)

    def loss_fn(shared, task, x_t, y_t, onehot):
        return ((batched.single_task_fn()(shared, task, x_t, onehot) - y_t) ** 2).mean(), None

    grads = per_task_gradients(loss_fn, batched.shared, batched.task, (x, y, torch.eye(T)))
    expected = make_surgery(method, T).combine(grads.jacobian(), grads.losses)
    step = write_surgery_gradients(make_surgery(method, T), batched.shared, batched.task, grads)
    written = torch.cat([p.grad.reshape(-1) for p in batched.shared.values()])
    scale = expected.direction.abs().max()
    assert torch.allclose(written, expected.direction, rtol=1e-4, atol=1e-5 * scale)
    assert torch.allclose(step.task_weights, expected.task_weights, rtol=1e-4, atol=1e-6)
    with_diagnostics = write_surgery_gradients(make_surgery(method, T), batched.shared, batched.task, grads,
                                               with_diagnostics=True)  # the concatenated path
    assert set(with_diagnostics.diagnostics) == {"conflict_fraction", "mean_cosine", "grad_norms"}
    assert torch.allclose(torch.cat([p.grad.reshape(-1) for p in batched.shared.values()]), expected.direction,
                          rtol=1e-4, atol=1e-5 * scale)


def test_update_runs_with_every_registered_method():
    from mtrl.surgery import list_methods

    buf = filled_buffer()
    for name in list_methods():
        torch.manual_seed(0)
        agent = MTSAC(D, A, T, small_cfg(), make_surgery(name, T), make_surgery(name, T))
        for _ in range(3):
            metrics = agent.update(buf.sample(8), with_diagnostics=True)
        for key in ("critic_loss", "actor_loss", "alpha", "critic_task_weights"):
            assert metrics[key].shape == (T,), (name, key)
            assert torch.isfinite(metrics[key]).all(), (name, key)
        assert 0.0 <= float(metrics["critic_conflict_fraction"]) <= 1.0


def _without_linear_path(agent):
    """A copy of ``agent`` whose Jacobian updates take the vmapped per-task gradients."""
    other = copy.deepcopy(agent)
    for update in (other.actor_update, other.critic_update):
        update._linear_gradients = None
    return other


@pytest.mark.parametrize("conditioning,heads", [("none", "per_task"), ("onehot", "shared"), ("embedding", "per_task")])
def test_linear_layer_task_gradients_equal_the_vmapped_ones(conditioning, heads):
    """The per-layer path (task-batched forward, one backward, ``δ_tᵀ x_t`` per shared Linear) gives the
    vmapped per-task gradients of every shared and task-specific parameter, and the same losses."""
    from mtrl.task_gradients import LinearTaskGradients

    torch.manual_seed(0)
    net = NetConfig(hidden_sizes=[16, 16], heads=heads, conditioning=conditioning)
    cfg = SACConfig(actor=net, critic=NetConfig(hidden_sizes=[16, 16], heads=heads, conditioning=conditioning))
    agent = MTSAC(D, A, T, cfg, make_surgery("pcgrad", T), make_surgery("pcgrad", T))
    fn = agent.critic_fn
    assert LinearTaskGradients.applies_to(fn)
    batch = filled_buffer().sample(8)
    target = torch.randn(T, 8)
    layered = LinearTaskGradients(fn)(agent._critic_losses_batched, (batch.obs, batch.action, target))
    vmapped = per_task_gradients(agent._critic_loss, fn.shared, fn.task,
                                 (batch.obs, batch.action, target, fn.task_onehots()))
    assert torch.allclose(layered.losses, vmapped.losses, atol=1e-6)
    assert list(layered.shared) == list(vmapped.shared) and list(layered.task) == list(vmapped.task)
    for name in vmapped.shared:
        assert layered.shared[name].shape == vmapped.shared[name].shape
        assert torch.allclose(layered.shared[name], vmapped.shared[name], atol=1e-6), name
    for name in vmapped.task:
        assert torch.allclose(layered.task[name], vmapped.task[name], atol=1e-6), name
    assert all(p.grad is None for p in agent.critic.parameters()), "the path must not write .grad"
    assert layered.flat is not None and layered.jacobian() is layered.flat  # written in place, no concatenation
    assert torch.allclose(layered.jacobian(), vmapped.jacobian(), atol=1e-6)
    # no autograd history: stateful methods (GradVac's EMA, Nash-MTL's warm start) keep what they are given
    assert not any(g.requires_grad for g in [*layered.shared.values(), *layered.task.values()])


@pytest.mark.parametrize("method", ["pcgrad", "cagrad", "mgda", "graddrop"])
def test_linear_layer_path_gives_the_vmapped_sac_updates(method):
    torch.manual_seed(0)
    agent = MTSAC(D, A, T, small_cfg(onehot=True), make_surgery(method, T), make_surgery(method, T))
    assert agent.critic_update._linear_gradients is not None and agent.actor_update._linear_gradients is not None
    other = _without_linear_path(agent)
    for a, b in paired_updates(agent, other, filled_buffer()):
        for key in ("critic_loss", "actor_loss", "critic_task_weights", "actor_task_weights"):
            assert torch.allclose(a[key], b[key], rtol=1e-4, atol=1e-5), (key, a[key], b[key])
    for p, q in zip([*agent.actor.parameters(), *agent.critic.parameters()],
                    [*other.actor.parameters(), *other.critic.parameters()], strict=True):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-5)


def test_networks_outside_the_linear_path_keep_the_vmapped_gradients():
    from mtrl.task_gradients import LinearTaskGradients

    for encoder, conditioning in (("moe", "none"), ("mlp", "film")):
        net = TaskBatched(TaskConditionedNet(D, 4, T, NetConfig(hidden_sizes=[8], encoder=encoder,
                                                                conditioning=conditioning)), T)
        assert not LinearTaskGradients.applies_to(net)
    agent = MTSAC(D, A, T, small_cfg(), make_surgery("mean", T), make_surgery("mean", T))
    assert agent.critic_update._linear_gradients is None  # no Jacobian, no per-layer machinery


def test_a_linear_called_twice_adds_up_both_calls():
    class Twice(torch.nn.Module):
        task_batched_forward = True

        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x, onehot):
            return self.lin(torch.tanh(self.lin(x)))

    torch.manual_seed(0)
    net = TaskBatched(Twice(), T)
    x = torch.randn(T, 5, 4)

    def losses_fn(x_):
        return (net(x_) ** 2).mean(dim=(1, 2)), None

    assert_per_layer_gradients_match_autograd(net, losses_fn, (x,), ["lin.weight", "lin.bias"])
