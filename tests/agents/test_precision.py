"""`agent.sac.precision` / `agent.ppo.precision`: bf16 mixed precision gives the fp32 update up to bf16 rounding,
keeps everything but the hidden layers' matmuls in float32, and learns; tf32 is refused off CUDA."""

from __future__ import annotations

import io
import warnings

import pytest
import torch

from mtrl.agents.ppo import MTPPO, Rollout
from mtrl.agents.ppo_config import PPOConfig
from mtrl.agents.sac import MTSAC
from mtrl.agents.sac_config import SACConfig
from mtrl.config import load_config
from mtrl.errors import ConfigError
from mtrl.nets.net_config import NetConfig
from mtrl.precision import Precision, fp32_head
from mtrl.replay import TaskReplayBuffer
from mtrl.surgery import make_surgery
from mtrl.task_gradients import LinearTaskGradients, per_task_gradients
from tests.helpers import ROOT

T, D, A, B = 3, 7, 2, 32

# Tolerances of bf16 against fp32 on one update (8-bit mantissa in the hidden layers' matmuls, float32 elsewhere):
LOSS_RTOL = 2e-2  # per-task losses, relative
GRAD_COSINE = 0.99  # every parameter's gradient points the same way ...
GRAD_NORM_RTOL = 5e-2  # ... with the same length


@pytest.fixture(autouse=True)
def _quiet_bf16_cpu_warning():
    with warnings.catch_warnings():  # CPUs without native bf16 warn that it is slow here; not what these test
        warnings.filterwarnings("ignore", "precision bf16: this CPU", RuntimeWarning)
        yield


def _net(encoder: str = "mlp", conditioning: str = "onehot") -> NetConfig:
    return NetConfig(hidden_sizes=[64, 64], encoder=encoder, conditioning=conditioning)


def _sac(precision: str, surgery: str = "mean", encoder: str = "mlp", compile: bool = False) -> MTSAC:
    torch.manual_seed(0)
    cfg = SACConfig(actor=_net(encoder), critic=_net(encoder), batch_size_per_task=B, precision=precision,
                    max_grad_norm=0.0, compile=compile)  # no clipping: .grad keeps the raw gradient
    return MTSAC(D, A, T, cfg, make_surgery(surgery, T), make_surgery(surgery, T))


def _buffer() -> TaskReplayBuffer:
    g = torch.Generator().manual_seed(1)
    n = 4 * B
    buffer = TaskReplayBuffer(T, n, D, A, "cpu")
    buffer.add(torch.randn(T, n, D, generator=g), torch.rand(T, n, A, generator=g) * 2 - 1,
               torch.rand(T, n, generator=g) * 10, torch.randn(T, n, D, generator=g), torch.zeros(T, n))
    return buffer


def _grads(*modules: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{i}.{name}": p.grad.clone() for i, m in enumerate(modules) for name, p in m.named_parameters()}


def _assert_close_grads(reduced: dict[str, torch.Tensor], full: dict[str, torch.Tensor]) -> None:
    assert reduced.keys() == full.keys()
    for name, g in full.items():
        r = reduced[name]
        assert r.dtype == torch.float32, name
        if g.norm() < 1e-6:  # e.g. heads of tasks the loss does not reach
            continue
        cosine = torch.nn.functional.cosine_similarity(r.flatten(), g.flatten(), dim=0)
        assert cosine > GRAD_COSINE, (name, float(cosine))
        assert abs(float(r.norm() / g.norm()) - 1) < GRAD_NORM_RTOL, (name, float(r.norm() / g.norm()))


@pytest.mark.parametrize("surgery", ["mean", "pcgrad"])
def test_bf16_sac_update_matches_fp32(surgery):
    """One MTSAC update on a fixed batch: bf16 losses and gradients within the stated tolerances of fp32's; the
    bf16 run really rounded (not bit-equal), and parameters, gradients and Adam moments stay float32."""
    full, reduced = _sac("fp32", surgery), _sac("bf16", surgery)
    batch = _buffer().sample(B)
    torch.manual_seed(2)
    m_full = full.update(batch)
    torch.manual_seed(2)
    m_reduced = reduced.update(batch)
    for key in ("critic_loss", "actor_loss"):
        assert m_reduced[key].dtype == torch.float32
        assert torch.allclose(m_reduced[key], m_full[key], rtol=LOSS_RTOL, atol=1e-3), (key, m_reduced[key],
                                                                                      m_full[key])
    assert not torch.equal(m_reduced["critic_loss"], m_full["critic_loss"]), "bf16 did not change any rounding"
    _assert_close_grads(_grads(reduced.actor, reduced.critic), _grads(full.actor, full.critic))
    for optimizer in (reduced.actor_optimizer, reduced.critic_optimizer, reduced.alpha_optimizer):
        for state in optimizer.state.values():
            assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in [*reduced.actor.parameters(), *reduced.critic.parameters()])
    assert reduced.log_alpha.dtype == torch.float32


def test_bf16_ppo_update_matches_fp32():
    def agent(precision: str) -> MTPPO:
        torch.manual_seed(0)
        cfg = PPOConfig(actor=_net(), critic=_net(), epochs=1, minibatches=1, max_grad_norm=0.0, anneal_lr=False,
                        precision=precision)
        return MTPPO(D, A, T, cfg, make_surgery("pcgrad", T), make_surgery("pcgrad", T))

    g = torch.Generator().manual_seed(3)
    S = 16
    values, advantages = torch.randn(S, T, 1, generator=g) * 50, torch.randn(S, T, 1, generator=g)
    rollout = Rollout(torch.randn(S, T, 1, D, generator=g), torch.randn(S, T, 1, A, generator=g),
                      -torch.rand(S, T, 1, generator=g) - 2, values, advantages, values + advantages)
    full, reduced = agent("fp32"), agent("bf16")
    torch.manual_seed(4)
    m_full = full.update(rollout)
    torch.manual_seed(4)
    m_reduced = reduced.update(rollout)
    for key in ("critic_loss", "actor_loss"):
        assert torch.allclose(m_reduced[key], m_full[key], rtol=LOSS_RTOL, atol=1e-3), key
    _assert_close_grads(_grads(reduced.actor, reduced.critic), _grads(full.actor, full.critic))
    # acting and the update share the precision: the rollout's log-probs are the update's at the same weights
    obs = torch.randn(T, 5, D)
    torch.manual_seed(5)
    action, log_prob, value = reduced.explore(obs)
    assert log_prob.dtype == value.dtype == torch.float32


@pytest.mark.parametrize("stacked", [True, False])
def test_bf16_linear_layer_jacobian_equals_the_vmapped_bf16_one(stacked):
    """The per-layer task Jacobian (bf16 activations and output gradients, float32 accumulation) equals the
    vmapped per-task gradients under the same autocast, and both differ from float32's only by bf16 rounding."""
    agent = _sac("bf16", "pcgrad")
    fn = agent.critic_fn if stacked else agent.actor_fn
    assert agent.critic.stacked and LinearTaskGradients.applies_to(fn)
    batch = _buffer().sample(B)
    target = torch.randn(T, B) * 10
    noise = torch.randn(T, B, A)
    alpha = torch.ones(T)
    bf16 = agent.precision
    if stacked:
        batched, inputs = agent._critic_losses_batched, (batch.obs, batch.action, target)
        loss_fn, single_inputs = agent._critic_loss, (batch.obs, batch.action, target, fn.task_onehots())
        in_dims = None
    else:
        critic_shared = {k: v.detach() for k, v in agent.critic_fn.shared.items()}
        critic_task = {k: v.detach() for k, v in agent.critic_fn.task.items()}
        batched, inputs = agent._actor_losses_batched, (batch.obs, noise, alpha)
        loss_fn = agent._actor_loss
        single_inputs = (batch.obs, noise, alpha, critic_shared, critic_task, fn.task_onehots())
        in_dims = (0, 0, 0, None, 0, 0)
    layered = LinearTaskGradients(fn)(bf16.wrap(batched), inputs)
    vmapped = per_task_gradients(bf16.wrap(loss_fn), fn.shared, fn.task, single_inputs, in_dims)
    full = per_task_gradients(loss_fn, fn.shared, fn.task, single_inputs, in_dims)
    jac_layered, jac_vmapped, jac_full = layered.jacobian(), vmapped.jacobian(), full.jacobian()
    assert jac_layered.dtype == jac_vmapped.dtype == torch.float32
    scale = jac_full.norm(dim=1)
    # the two bf16 paths round the same products, in other groupings (one matmul over all tasks vs vmapped per
    # task): within 3% per task (measured <= 1.9%), against up to 10% between bf16 and float32 (the critic's TD
    # errors amplify the rounding of its Q-values)
    assert ((jac_layered - jac_vmapped).norm(dim=1) / scale).max() < 3e-2
    assert torch.allclose(layered.losses, vmapped.losses, rtol=1e-2, atol=1e-2)
    off = ((jac_vmapped - jac_full).norm(dim=1) / scale).max()
    assert 0 < off < 0.15
    for name in vmapped.task:
        assert (layered.task[name] - vmapped.task[name]).norm() < 3e-2 * vmapped.task[name].norm(), name


@pytest.mark.parametrize("encoder", ["moe", "topk_moe", "moore", "soft_modularization", "care"])
def test_bf16_runs_every_encoder_with_float32_outputs(encoder):
    agent = _sac("bf16", "pcgrad", encoder=encoder)
    metrics = agent.update(_buffer().sample(B))
    for key in ("critic_loss", "actor_loss", "q_mean", "alpha"):
        assert metrics[key].dtype == torch.float32 and torch.isfinite(metrics[key]).all(), key


def test_heads_stay_float32_inside_autocast():
    head = torch.nn.Linear(8, 1)
    x = torch.randn(4, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.nn.functional.linear(x, head.weight).dtype == torch.bfloat16  # autocast is on
        out = fp32_head(head, x.bfloat16())
    assert out.dtype == torch.float32
    assert torch.allclose(out, head(x.bfloat16().float()))


def test_tf32_is_refused_off_cuda_with_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="precision: tf32 needs a CUDA device"):
        Precision("tf32", "cpu")
    with pytest.raises(ValueError, match="tf32 needs a CUDA device"):
        _sac("tf32")
    for key in ("agent.sac.precision", "agent.ppo.precision"):
        with pytest.raises(ConfigError, match=f"^{key}: tf32 needs a CUDA device") as err:
            load_config(ROOT / "configs" / "synthetic.yaml", [f"{key}=tf32", "device=cpu"])
        assert "\n" not in str(err.value)
        with pytest.raises(ConfigError, match=f"{key}: unknown precision 'fp16'"):
            load_config(None, [f"{key}=fp16"])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_checkpoints_round_trip_with_either_precision(precision):
    """A saved agent loads into a fresh one of the same precision and continues bit for bit."""
    agent = _sac(precision, "pcgrad")
    buffer = _buffer()
    for _ in range(2):
        agent.update(buffer.sample(B))
    saved = io.BytesIO()
    torch.save(agent.state_dict(), saved)  # through the file format: a state dict shares the live tensors
    saved.seek(0)
    restored = _sac(precision, "pcgrad")
    restored.load_state_dict(torch.load(saved, weights_only=True))
    batch = buffer.sample(B)
    torch.manual_seed(7)
    a = agent.update(batch)
    torch.manual_seed(7)
    b = restored.update(batch)
    assert torch.equal(a["critic_loss"], b["critic_loss"]) and torch.equal(a["actor_loss"], b["actor_loss"])
    for p, q in zip([*agent.actor.parameters(), *agent.critic.parameters()],
                    [*restored.actor.parameters(), *restored.critic.parameters()], strict=True):
        assert torch.equal(p, q)


def test_bf16_compiled_update_matches_eager_bf16():
    eager, compiled = _sac("bf16"), _sac("bf16", compile=True)
    batch = _buffer().sample(B)
    torch.manual_seed(8)
    a = eager.update(batch)
    torch.manual_seed(8)
    b = compiled.update(batch)
    compiled_fns = [compiled.target_q, *compiled.critic_update._batched_losses.values()]
    assert all(fn.error is None for fn in compiled_fns)
    for key in ("critic_loss", "actor_loss"):
        assert torch.allclose(a[key], b[key], rtol=LOSS_RTOL, atol=1e-3), key


@pytest.mark.slow
def test_mtsac_learns_the_synthetic_benchmark_in_bf16(tmp_path):
    """The README quick start in bf16: the same seed and budget as the fp32 learning test (tests/runs/test_train.py),
    the same >= 0.9 mean success."""
    from mtrl.train import train

    cfg = load_config(ROOT / "configs" / "synthetic.yaml",
                      [f"run_dir={tmp_path / 'run'}", "train.progress=false", "agent.sac.precision=bf16"])
    _, result = train(cfg)
    assert result.mean_success >= 0.9, result.per_task


def test_the_command_line_offers_the_precisions_agents_run_and_refuses_others(capsys):
    """``mtrl bench update/train --precisions`` accept each precision the agents implement (tf32 refused on the CPU
    with its reason, by the agents' own check) and nothing else."""
    from mtrl.cli import build_parser
    from mtrl.precision import check_precision

    parser = build_parser()
    for name in ("fp32", "bf16", "tf32"):
        assert parser.parse_args(["bench", "update", "--precisions", name]).precisions == [name]
        assert parser.parse_args(["bench", "train", "--precisions", name]).precisions == [name]
        if name == "tf32":
            with pytest.raises(ValueError, match="tf32 needs a CUDA device"):
                check_precision(name, "cpu")
        else:
            check_precision(name, "cpu")
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "update", "--precisions", "fp16"])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err
