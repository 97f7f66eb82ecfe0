"""Network architectures: shapes through TaskBatched, routing properties, the shared/task-specific split, batched
heads, checkpoints, per-task gradients and the MTSAC update with every encoder and conditioning (small sizes)."""

import io
import math

import pytest
import torch
from torch import Tensor, nn

from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.nets.encoder import BALANCE_LOSS, EXPERT_WEIGHTS, GATE_WEIGHTS, ROUTING_ENTROPY
from mtrl.nets.layers import PerTaskLinear
from mtrl.nets.moore import gram_schmidt
from mtrl.nets.net_config import NetConfig
from mtrl.nets.network import TaskConditionedNet
from mtrl.nets.task_batched import TaskBatched, split_parameters
from mtrl.nets.topk_moe import load_balancing_loss, top_k_routing
from mtrl.replay import TaskReplayBuffer
from mtrl.surgery import make_surgery
from mtrl.task_gradients import per_task_gradients
from tests.helpers import ROOT

T, D, A, B = 3, 7, 2, 5

# every encoder and conditioning at small sizes (soft modularization with 3 layers: a middle routing step)
ARCHS: dict[str, dict] = {
    "mlp": {},
    "onehot": {"conditioning": "onehot"},
    "embedding": {"conditioning": "embedding", "task_embedding_dim": 4},
    "film": {"conditioning": "film", "task_embedding_dim": 4},
    "moe": {"encoder": "moe", "num_experts": 3, "task_embedding_dim": 4},
    "topk_moe": {"encoder": "topk_moe", "num_experts": 4, "top_k": 2, "task_embedding_dim": 4},
    "moore": {"encoder": "moore", "num_experts": 3},
    "soft_modularization": {"encoder": "soft_modularization", "num_layers": 3, "num_modules": 2,
                            "module_hidden": 6, "routing_hidden_sizes": [8, 8]},
    "care": {"encoder": "care", "num_experts": 3, "expert_hidden_sizes": [6, 5], "task_embedding_dim": 4},
}
# the task-specific parameters besides the heads
TASK_SPECIFIC = {
    "mlp": set(), "onehot": set(), "embedding": {"task_embedding.weight"},
    "film": {"encoder.task_embedding.weight"}, "moe": {"encoder.task_embedding.weight"},
    "topk_moe": {"encoder.task_embedding.weight"}, "moore": {"encoder.task_weights.weight"},
    "soft_modularization": {"encoder.task_embedding.weight"}, "care": {"encoder.task_embedding.weight"},
}
GATED = ["moe", "topk_moe", "soft_modularization", "care"]


def net_cfg(arch: str, heads: str = "per_task", **extra) -> NetConfig:
    return NetConfig(**{"hidden_sizes": [8, 8], "heads": heads, **ARCHS[arch], **extra})


def make_net(arch: str, heads: str = "per_task", seed: int = 0, **extra) -> TaskConditionedNet:
    torch.manual_seed(seed)
    return TaskConditionedNet(D, 4, T, net_cfg(arch, heads, **extra))


class WithAux(nn.Module):
    """Runs ``forward_with_aux`` through TaskBatched (which calls ``forward``)."""

    def __init__(self, net: TaskConditionedNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor, task_onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        return self.net.forward_with_aux(x, task_onehot)


class Method(nn.Module):
    """Runs one method of a sub-module through TaskBatched."""

    def __init__(self, module: nn.Module, method: str) -> None:
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args: Tensor) -> Tensor:
        return getattr(self.module, self.method)(*args[:-1])  # drop the one-hot


def sac_cfg(arch: str, **extra) -> SACConfig:
    return SACConfig(actor=net_cfg(arch, **extra), critic=net_cfg(arch, **extra))


def filled_buffer(n: int = 32) -> TaskReplayBuffer:
    g = torch.Generator().manual_seed(0)
    buf = TaskReplayBuffer(T, 64, D, A, "cpu")
    buf.add(torch.randn(T, n, D, generator=g), torch.rand(T, n, A, generator=g) * 2 - 1,
            torch.randn(T, n, generator=g), torch.randn(T, n, D, generator=g), torch.zeros(T, n))
    return buf


# ---------------------------------------------------------------------------------------------- shapes, aux
@pytest.mark.parametrize("heads", ["per_task", "shared"])
@pytest.mark.parametrize("arch", list(ARCHS))
def test_output_and_aux_shapes_for_all_tasks(arch, heads):
    net = make_net(arch, heads)
    x = torch.randn(T, B, D)
    out, aux = TaskBatched(WithAux(net), T)(x)
    assert out.shape == (T, B, 4)
    assert torch.equal(TaskBatched(net, T)(x), out)  # forward = forward_with_aux without the aux
    assert torch.isfinite(out).all()
    assert set(aux) == set(net.aux_keys)
    K = net.encoder.num_modules if arch == "soft_modularization" else ARCHS[arch].get("num_experts")
    for key, value in aux.items():
        assert value.shape == ((T, K) if key in (GATE_WEIGHTS, EXPERT_WEIGHTS) else (T,)), key


def test_plain_mlp_reports_no_aux():
    for arch in ("mlp", "onehot", "embedding", "film"):
        assert make_net(arch).aux_keys == ()


@pytest.mark.parametrize("arch", GATED)
def test_gates_are_distributions(arch):
    net = make_net(arch)
    _, aux = TaskBatched(WithAux(net), T)(torch.randn(T, B, D))
    gates = aux[GATE_WEIGHTS]
    assert (gates >= 0).all()
    assert torch.allclose(gates.sum(-1), torch.ones(T), atol=1e-6)
    K = gates.shape[-1]
    assert ((aux[ROUTING_ENTROPY] >= 0) & (aux[ROUTING_ENTROPY] <= math.log(K) + 1e-6)).all()


def test_soft_modularization_routing_rows_are_distributions():
    net = make_net("soft_modularization")
    enc = net.encoder

    class Routes(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = enc

        def forward(self, x: Tensor, onehot: Tensor) -> tuple[list[Tensor], Tensor]:
            return self.enc.routing(self.enc._mlp(self.enc.state_embedding, x))

    routes, output_weights = TaskBatched(Routes(), T)(torch.randn(T, B, D))
    assert len(routes) == 2  # L - 1 between-layer routings for L = 3
    for p in routes:
        assert p.shape == (T, B, 2, 2)
        assert torch.allclose(p.sum(-1), torch.ones(T, B, 2), atol=1e-6)
    assert torch.allclose(output_weights.sum(-1), torch.ones(T, B), atol=1e-6)


# ---------------------------------------------------------------------------------------------- top-k routing
def test_topk_uses_exactly_k_experts_per_sample():
    net = make_net("topk_moe")
    weights, probs, dispatch = TaskBatched(Method(net.encoder, "route"), T)(torch.randn(T, 16, D))
    assert ((weights > 0).sum(-1) == 2).all()
    assert torch.equal(dispatch, (weights > 0).float())
    assert torch.allclose(weights.sum(-1), torch.ones(T, 16), atol=1e-6)  # top-2: renormalised
    # the chosen experts are the two most probable ones
    assert torch.equal(probs.topk(2, -1).indices.sort(-1).values, weights.topk(2, -1).indices.sort(-1).values)


def test_topk_output_depends_only_on_the_chosen_experts():
    """Gradients of one sample's output reach exactly k experts' weights."""
    net = make_net("topk_moe")
    x = torch.randn(T, 1, D)
    out = TaskBatched(net, T)(x)
    first = net.encoder.experts.net[0].weight  # (K, in, out)
    for t in range(T):
        (g,) = torch.autograd.grad(out[t].sum(), first, retain_graph=True)
        assert int((g.flatten(1).abs().sum(1) > 0).sum()) == 2


def test_top1_keeps_switch_gate_values():
    probs = torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]])
    weights, dispatch = top_k_routing(probs, 1)
    assert torch.equal(weights, torch.tensor([[0.6, 0.0, 0.0], [0.0, 0.5, 0.0]]))
    assert torch.equal(dispatch, torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


@pytest.mark.parametrize("k", [1, 2])
def test_balance_loss_is_minimal_for_uniform_routing_and_larger_for_collapse(k):
    K = 4
    # uniform routing: sample b prefers experts b, b+1, ... cyclically -> every expert gets the same share of the
    # slots and the same mean probability
    logits = torch.stack([torch.roll(torch.tensor([3.0, 2.0, 0.0, 0.0]), b) for b in range(K)])
    probs = logits.softmax(-1)
    _, dispatch = top_k_routing(probs, k)
    assert torch.allclose(dispatch.sum(0), torch.full((K,), float(k)))
    uniform = load_balancing_loss(probs, dispatch)
    assert torch.allclose(uniform, torch.tensor(1.0), atol=1e-6)  # the lower bound K * sum (1/K)^2
    # consistent routing (dispatch shares equal the mean probabilities): K |P|^2 >= 1, minimal only if uniform
    skewed = torch.tensor([[0.7, 0.1, 0.1, 0.1]]).expand(8, -1)
    assert load_balancing_loss(skewed, skewed) > uniform
    # collapse onto expert 0: every sample, probability ~1
    collapsed = torch.tensor([[20.0, 0.0, 0.0, 0.0]]).expand(8, -1).softmax(-1)
    _, dispatch = top_k_routing(collapsed, k)
    loss = load_balancing_loss(collapsed, dispatch)
    assert loss > uniform + 0.5
    assert torch.allclose(loss, torch.tensor(K / k), atol=1e-3)  # k = 1: K (all slots on one expert)


def test_balance_loss_of_the_encoder_uniform_vs_collapsed():
    net = make_net("topk_moe")
    router = net.encoder.router
    x = torch.randn(T, 16, D)
    with torch.no_grad():
        router.weight.zero_()
        router.bias.zero_()  # p = 1/K for every sample: K * sum_i f_i / K = 1 whatever the dispatch
    _, aux = TaskBatched(WithAux(net), T)(x)
    assert torch.allclose(aux[BALANCE_LOSS], torch.ones(T), atol=1e-6)
    assert torch.allclose(aux[ROUTING_ENTROPY], torch.full((T,), math.log(4)), atol=1e-6)
    with torch.no_grad():
        router.bias.copy_(torch.tensor([30.0, 0.0, 0.0, 0.0]))
    _, aux = TaskBatched(WithAux(net), T)(x)
    assert (aux[BALANCE_LOSS] > 1.5).all()


# ---------------------------------------------------------------------------------------------- MOORE
def test_moore_expert_representations_are_orthonormal_per_sample():
    net = make_net("moore", hidden_sizes=[8, 6])
    U = TaskBatched(Method(net.encoder, "representations"), T)(torch.randn(T, B, D))
    assert U.shape == (T, B, 3, 6)
    gram = U @ U.transpose(-1, -2)
    assert torch.allclose(gram, torch.eye(3).expand_as(gram), atol=1e-5)


def test_gram_schmidt_is_qr_with_positive_diagonal():
    """Gram-Schmidt in order = the Q of a QR factorisation with R's diagonal made positive."""
    torch.manual_seed(0)
    vectors = torch.randn(10, 4, 9, dtype=torch.float64)
    basis = gram_schmidt(vectors)
    q, r = torch.linalg.qr(vectors.transpose(-1, -2))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    assert torch.allclose(basis, q.transpose(-1, -2), atol=1e-10)


def test_moore_needs_enough_features_for_its_experts():
    with pytest.raises(ValueError, match="orthonormal"):
        make_net("moore", hidden_sizes=[8, 2])


# ---------------------------------------------------------------------------------------------- heads, split
def test_per_task_linear_batched_equals_per_task_forward():
    torch.manual_seed(0)
    head = PerTaskLinear(T, 6, 4)
    x = torch.randn(T, B, 6)
    out = TaskBatched(Method(head, "forward"), T)(x)  # one batched matmul for all tasks
    for t in range(T):
        assert torch.allclose(out[t], x[t] @ head.weight[t] + head.bias[t], atol=1e-6)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_batched_forward_equals_single_task_forward(arch):
    """Every task's slice of the all-task call equals the network run for that task alone."""
    net = make_net(arch)
    batched = TaskBatched(net, T)
    x = torch.randn(T, B, D)
    out = batched(x)
    f = batched.single_task_fn()
    for t in range(T):
        single = f(batched.shared, {k: v[t] for k, v in batched.task.items()}, x[t], torch.eye(T)[t])
        assert torch.allclose(out[t], single, atol=1e-6)


@pytest.mark.parametrize("heads", ["per_task", "shared"])
@pytest.mark.parametrize("arch", list(ARCHS))
def test_shared_and_task_specific_split(arch, heads):
    net = make_net(arch, heads)
    shared, task = split_parameters(net)
    expected = TASK_SPECIFIC[arch] | ({"head.weight", "head.bias"} if heads == "per_task" else set())
    assert set(task) == expected
    assert all(v.shape[0] == T for v in task.values())
    assert set(shared) | set(task) == {name for name, _ in net.named_parameters()}
    if heads == "shared":
        assert {"head.weight", "head.bias"} <= set(shared)
    routers = [n for n in shared if n.startswith(("encoder.router", "encoder.route", "encoder.attention",
                                                   "encoder.experts", "encoder.encoders", "encoder.generator"))]
    if arch in GATED or arch in ("moore", "film"):
        assert routers, "experts and routers are shared"


# ---------------------------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("arch", list(ARCHS))
def test_state_dict_round_trip_gives_identical_outputs(arch):
    net = make_net(arch, seed=0)
    other = make_net(arch, seed=1)
    x = torch.randn(T, B, D)
    assert not torch.allclose(TaskBatched(net, T)(x), TaskBatched(other, T)(x))
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer))
    out, aux = TaskBatched(WithAux(net), T)(x)
    out2, aux2 = TaskBatched(WithAux(other), T)(x)
    assert torch.equal(out, out2)
    assert all(torch.equal(aux[k], aux2[k]) for k in aux)


# ---------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("arch", list(ARCHS))
def test_per_task_gradients_equal_per_task_autograd(arch):
    torch.manual_seed(0)
    agent = MTSAC(D, A, T, sac_cfg(arch, balance_coef=0.5), make_surgery("mean", T), make_surgery("mean", T))
    batch = filled_buffer().sample(8)
    alpha = torch.rand(T)
    noise = torch.randn(T, 8, A)
    onehots = torch.eye(T)
    critic_shared = {k: v.detach() for k, v in agent.critic_fn.shared.items()}
    critic_task = {k: v.detach() for k, v in agent.critic_fn.task.items()}
    cases = [
        (agent._critic_loss, agent.critic_fn, (batch.obs, batch.action, torch.randn(T, 8), onehots), None),
        (agent._actor_loss, agent.actor_fn, (batch.obs, noise, alpha, critic_shared, critic_task, onehots),
         (0, 0, 0, None, 0, 0)),
    ]
    for loss_fn, net, inputs, in_dims in cases:
        grads = per_task_gradients(loss_fn, net.shared, net.task, inputs, in_dims)
        for t in range(T):
            args = [v if d is None else v[t] if isinstance(v, Tensor) else {k: w[t] for k, w in v.items()}
                    for v, d in zip(inputs, in_dims or (0,) * len(inputs), strict=True)]
            loss, aux = loss_fn(net.shared, {k: v[t] for k, v in net.task.items()}, *args)
            assert torch.allclose(grads.losses[t], loss.detach(), atol=1e-6)
            for key, value in aux.items():
                assert torch.allclose(grads.aux[key][t], value, atol=1e-6), key
            ref_shared = torch.autograd.grad(loss, list(net.shared.values()), retain_graph=True, allow_unused=True)
            for (name, g), ref in zip(grads.shared.items(), ref_shared, strict=True):
                ref = torch.zeros_like(g[t]) if ref is None else ref
                assert torch.allclose(g[t], ref, atol=1e-5), (arch, name)
            ref_task = torch.autograd.grad(loss, list(net.task.values()), allow_unused=True)
            for (name, g), ref in zip(grads.task.items(), ref_task, strict=True):
                ref = torch.zeros_like(net.task[name]) if ref is None else ref
                assert torch.allclose(g[t], ref[t], atol=1e-5), (arch, name)
                others = [i for i in range(T) if i != t]
                assert ref[others].abs().max() == 0, "a task's loss must not touch other tasks' parameters"


def test_balance_loss_enters_the_task_losses():
    """critic loss = TD losses + balance_coef * (balance loss of q1 + of q2); actor loss likewise."""
    batch = filled_buffer().sample(8)
    target = torch.randn(T, 8)
    losses = {}
    for coef in (0.0, 0.5):
        torch.manual_seed(0)
        agent = MTSAC(D, A, T, sac_cfg("topk_moe", balance_coef=coef), make_surgery("mean", T),
                      make_surgery("mean", T))
        net = agent.critic_fn
        losses[coef], aux = torch.func.vmap(agent._critic_loss, in_dims=(None, 0, 0, 0, 0, 0))(
            net.shared, net.task, batch.obs, batch.action, target, torch.eye(T))
    # aux holds the twin networks' mean balance loss: the penalty is coef * 2 * mean
    assert torch.allclose(losses[0.5] - losses[0.0], 0.5 * 2 * aux[BALANCE_LOSS], atol=1e-5)


# ---------------------------------------------------------------------------------------------- MTSAC update
@pytest.mark.parametrize("arch", list(ARCHS))
def test_update_runs_and_reports_gate_diagnostics(arch):
    torch.manual_seed(0)
    method = "pcgrad" if arch in ("moe", "moore", "topk_moe") else "mean"  # the Jacobian path too
    agent = MTSAC(D, A, T, sac_cfg(arch), make_surgery(method, T), make_surgery(method, T))
    buf = filled_buffer()
    before = [p.detach().clone() for p in agent.actor.parameters()]
    for _ in range(2):
        metrics = agent.update(buf.sample(8), with_diagnostics=True)
    for key, value in metrics.items():
        assert torch.isfinite(value).all(), key
    net = agent.actor.net
    for prefix in ("actor", "critic"):
        for key in net.aux_keys:
            assert f"{prefix}_{key}" in metrics
            assert metrics[f"{prefix}_{key}"].shape[0] == T
        if GATE_WEIGHTS in net.aux_keys:
            assert torch.allclose(metrics[f"{prefix}_{GATE_WEIGHTS}"].sum(-1), torch.ones(T), atol=1e-5)
    extra = {k for k in metrics if k.endswith((GATE_WEIGHTS, ROUTING_ENTROPY, BALANCE_LOSS, EXPERT_WEIGHTS))}
    assert bool(extra) == bool(net.aux_keys)  # nothing extra for encoders without aux
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.actor.parameters(), strict=True))


# ---------------------------------------------------------------------------------------------- configs
ARCH_CONFIGS = sorted((ROOT / "configs").glob("arch_*.yaml"))


def test_every_architecture_has_mt10_and_mt50_configs():
    names = {p.name for p in ARCH_CONFIGS}
    for arch in ("moe", "topk_moe", "moore", "soft_modularization", "care", "film", "embedding"):
        assert {f"arch_{arch}_mt10.yaml", f"arch_{arch}_mt50.yaml"} <= names, arch


@pytest.mark.parametrize("path", ARCH_CONFIGS, ids=lambda p: p.stem)
def test_architecture_configs_load_and_build(path):
    pytest.importorskip("envs.config")
    from mtrl.config import load_config

    cfg = load_config(path)
    num_tasks = {"MT10": 10, "MT50": 50}[cfg.env.benchmark]
    for net_cfg_ in (cfg.agent.sac.actor, cfg.agent.sac.critic):
        net = TaskConditionedNet(39, 8, num_tasks, net_cfg_)
        _, task = split_parameters(net)
        assert all(v.shape[0] == num_tasks for v in task.values())
    arch = path.stem.removeprefix("arch_").rsplit("_", 1)[0]
    actor = cfg.agent.sac.actor
    if arch in ("film", "embedding"):
        assert actor.encoder == "mlp" and actor.conditioning == arch
    else:
        assert actor.encoder == arch
    sizes = {("moore", "MT10"): 4, ("moore", "MT50"): 6, ("care", "MT10"): 6, ("care", "MT50"): 10}
    if (arch, cfg.env.benchmark) in sizes:
        assert actor.num_experts == sizes[arch, cfg.env.benchmark]


def test_invalid_configs_name_the_field():
    for bad, match in [({"encoder": "nope"}, "encoder"), ({"conditioning": "nope"}, "conditioning"),
                       ({"encoder": "moe", "conditioning": "film"}, "film"), ({"heads": "nope"}, "heads"),
                       ({"encoder": "topk_moe", "num_experts": 2, "top_k": 3}, "top_k"),
                       ({"encoder": "soft_modularization", "num_layers": 1}, "num_layers")]:
        with pytest.raises(ValueError, match=match):
            TaskConditionedNet(D, 4, T, NetConfig(hidden_sizes=[8], **bad))


# ---------------------------------------------------------------------------------------------- stacked linear


@pytest.mark.parametrize("shared_input", [True, False])
def test_stacked_linear_matches_plain_matmul_under_vmap_backward_and_per_task_grad(shared_input):
    """The expert layers' vmap rule (no per-task copies of shared weights) gives the plain formulation's values:
    outputs, gradients of the summed losses (the plain update) and per-task gradients (the surgery's Jacobian)."""
    from torch.func import grad, vmap

    from mtrl.nets.experts import stacked_linear, stacked_linear_reference

    g = torch.Generator().manual_seed(0)
    T, K, B, i, o = 3, 4, 5, 6, 7
    W = torch.randn(K, i, o, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(K, o, generator=g, dtype=torch.float64, requires_grad=True)
    W2 = torch.randn(K, o, o, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(T, B, i, generator=g, dtype=torch.float64) if shared_input else \
        torch.randn(T, K, B, i, generator=g, dtype=torch.float64)

    def loss(layer):
        def f(x, W, b, W2):
            return layer(torch.tanh(layer(x, W, b)), W2, b).square().mean()
        return f

    new, ref = loss(stacked_linear), loss(stacked_linear_reference)
    in_dims = (0, None, None, None)
    losses_new, losses_ref = vmap(new, in_dims=in_dims)(x, W, b, W2), vmap(ref, in_dims=in_dims)(x, W, b, W2)
    torch.testing.assert_close(losses_new, losses_ref)
    for a, r in zip(torch.autograd.grad(losses_new.sum(), (W, b, W2)),
                    torch.autograd.grad(losses_ref.sum(), (W, b, W2)), strict=True):
        torch.testing.assert_close(a, r)
    jac_new = vmap(grad(new, argnums=(1, 2, 3)), in_dims=in_dims)(x, W, b, W2)
    jac_ref = vmap(grad(ref, argnums=(1, 2, 3)), in_dims=in_dims)(x, W, b, W2)
    for a, r in zip(jac_new, jac_ref, strict=True):
        assert a.shape[0] == T
        torch.testing.assert_close(a, r)
    # weights mapped too (e.g. a vmap over an ensemble of experts): the broadcasting fallback
    Ws = torch.randn(T, K, i, o, generator=g, dtype=torch.float64)
    torch.testing.assert_close(vmap(stacked_linear, in_dims=(0, 0, None))(x, Ws, b),
                               vmap(stacked_linear_reference, in_dims=(0, 0, None))(x, Ws, b))
