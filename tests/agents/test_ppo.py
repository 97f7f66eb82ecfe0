"""MTPPO pieces: GAE against a hand computation, per-task advantage normalisation, clipping, stratified
minibatches, checkpoint round trip, and learning on the synthetic benchmark."""

import copy
import math

import pytest
import torch

from mtrl.agents.ppo import MTPPO, RunningMeanStd, compute_gae, normalize_per_task
from mtrl.agents.ppo_config import PPOConfig
from mtrl.nets.net_config import NetConfig
from mtrl.surgery import make_surgery
from tests.helpers import ROOT, fake_rollout, training_interrupted_at


def test_gae_matches_hand_computation():
    # one env, 3 steps; the episode is truncated after step 2 (bootstrap from V(final)=4), gamma=0.9, lambda=0.5
    r = torch.tensor([1.0, 2.0, 3.0])
    v = torch.tensor([0.5, 1.0, 1.5])
    next_v = torch.tensor([1.0, 1.5, 4.0])
    term = torch.zeros(3, dtype=torch.bool)
    end = torch.tensor([False, False, True])
    adv, ret = compute_gae(r, v, next_v, term, end, gamma=0.9, lam=0.5)
    d2 = 3 + 0.9 * 4.0 - 1.5  # 5.1
    d1 = 2 + 0.9 * 1.5 - 1.0  # 2.35
    d0 = 1 + 0.9 * 1.0 - 0.5  # 1.4
    a2 = d2
    a1 = d1 + 0.45 * a2
    a0 = d0 + 0.45 * a1
    assert torch.allclose(adv, torch.tensor([a0, a1, a2]))
    assert torch.allclose(ret, adv + v)


def test_gae_terminal_does_not_bootstrap_and_episode_end_cuts_the_recursion():
    r = torch.tensor([1.0, 1.0])
    v = torch.tensor([0.0, 0.0])
    next_v = torch.tensor([10.0, 10.0])
    # step 0 terminates (a new episode starts at step 1): no bootstrap from 10, no carry from step 1
    adv, _ = compute_gae(r, v, next_v, torch.tensor([True, False]), torch.tensor([True, False]), 0.9, 0.95)
    assert adv[0] == 1.0
    assert math.isclose(adv[1].item(), 1 + 0.9 * 10)


def test_advantages_are_normalised_per_task():
    x = torch.stack([torch.randn(100) * 5 + 3, torch.randn(100) * 0.1 - 7])
    y = normalize_per_task(x)
    assert torch.allclose(y.mean(dim=1), torch.zeros(2), atol=1e-5)
    assert torch.allclose(y.std(dim=1), torch.ones(2), atol=1e-3)


def test_running_mean_std_tracks_each_task():
    rms = RunningMeanStd(2, 3)
    data = torch.stack([torch.randn(2000, 3) * 2 + 1, torch.randn(2000, 3) * 0.5 - 4])
    for chunk in data.split(100, dim=1):
        rms.update(chunk)
    assert torch.allclose(rms.mean, data.mean(dim=1), atol=1e-3)
    assert torch.allclose(rms.var, data.var(dim=1, unbiased=False), rtol=1e-2)


def small_agent(T=2, surgery="mean", **overrides) -> MTPPO:
    net = NetConfig(hidden_sizes=[16])
    cfg = PPOConfig(actor=net, critic=NetConfig(hidden_sizes=[16]), epochs=2, minibatches=2, **overrides)
    return MTPPO(3, 2, T, cfg, make_surgery(surgery, T), make_surgery(surgery, T))


def test_clipped_objective_has_no_gradient_beyond_the_clip():
    from mtrl.agents.ppo import gaussian_log_prob

    agent = small_agent(clip_coef=0.2, ent_coef=0.0)
    T, B = 2, 5
    obs, actions, onehot = torch.randn(T, B, 3), torch.randn(T, B, 2), torch.eye(T)[0]
    shared = agent.actor_fn.shared
    task0 = {k: v[0] for k, v in agent.actor_fn.task.items()}
    mean, log_std = agent.actor_fn.single_task_fn()(shared, task0, obs[0], onehot)
    new_lp = gaussian_log_prob(actions[0], mean, log_std.expand_as(mean)).detach()
    adv = torch.ones(B)
    # old log-probs far below the new ones: ratio >> 1 + clip with positive advantages -> clipped, constant loss
    loss, aux = agent._actor_loss(shared, task0, obs[0], actions[0], new_lp - 5.0, adv, onehot)
    assert aux["clip_fraction"] == 1.0
    assert math.isclose(loss.item(), -1.2, rel_tol=1e-5)
    grads = torch.autograd.grad(loss, list(shared.values()), allow_unused=True)
    assert all(g is None or g.abs().max() == 0 for g in grads)
    # at ratio 1 the surrogate is -adv * ratio and the gradient flows
    loss_in, aux_in = agent._actor_loss(shared, task0, obs[0], actions[0], new_lp, adv, onehot)
    assert math.isclose(loss_in.item(), -1.0, rel_tol=1e-5) and aux_in["clip_fraction"] == 0.0
    grads_in = torch.autograd.grad(loss_in, list(shared.values()))
    assert any(g.abs().max() > 0 for g in grads_in)


@pytest.mark.parametrize("surgery", ["mean", "pcgrad"])
def test_update_uses_every_task_in_every_minibatch_and_round_trips(surgery):
    torch.manual_seed(0)
    agent = small_agent(surgery=surgery)
    rollout = fake_rollout(agent)
    metrics = agent.update(rollout, with_diagnostics=True)
    assert metrics["actor_loss"].shape == (2,) and metrics["critic_loss"].shape == (2,)
    assert torch.isfinite(metrics["actor_loss"]).all() and metrics["epochs"] == 2
    clone = small_agent(surgery=surgery)
    # deep copy, as a checkpoint on disk would be: Optimizer.load_state_dict keeps the tensors it is given
    clone.load_state_dict(copy.deepcopy(agent.state_dict()))
    torch.manual_seed(5)
    a = agent.update(rollout)
    torch.manual_seed(5)
    b = clone.update(rollout)
    assert torch.equal(a["actor_loss"], b["actor_loss"]) and torch.equal(a["critic_loss"], b["critic_loss"])
    for p, q in zip(agent.actor.parameters(), clone.actor.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("clip_value_loss", [False, True])
def test_direct_and_vmapped_plain_paths_give_identical_updates(clip_value_loss):
    """With mean, the losses run on the modules in the task-batched view; the vmapped single-task losses must
    give bit-identical updates."""
    torch.manual_seed(0)
    direct = small_agent(clip_value_loss=clip_value_loss)
    vmapped = copy.deepcopy(direct)
    vmapped.actor_fn.native = vmapped.critic_fn.native = False
    assert direct.actor_fn.native and direct.critic_fn.native
    rollout = fake_rollout(direct)
    torch.manual_seed(3)
    a = direct.update(rollout)
    torch.manual_seed(3)
    b = vmapped.update(rollout)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for p, q in zip([*direct.actor.parameters(), *direct.critic.parameters()],
                    [*vmapped.actor.parameters(), *vmapped.critic.parameters()], strict=True):
        assert torch.equal(p, q)


def test_kl_early_stop_cuts_the_epochs():
    torch.manual_seed(0)
    agent = small_agent(target_kl=0.0, lr=1e-2)
    agent.cfg.epochs = 5
    metrics = agent.update(fake_rollout(agent))
    assert metrics["epochs"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("surgery", ["mean", "pcgrad"])
def test_mtppo_learns_the_synthetic_benchmark(tmp_path, surgery):
    from mtrl.config import load_config
    from mtrl.train import train

    # PCGrad's projections slow PPO down on these conflicting tasks: at the config's 40k steps per task seeds 0-4
    # reached 0.82, 0.82, 0.81, 1.0, 0.34 mean success (mean: 0.97, 1.0, 1.0); at 64k seeds 0 and 4 reach 1.0
    budget = ["train.total_steps_per_task=64000"] if surgery == "pcgrad" else []
    cfg = load_config(ROOT / "configs" / "synthetic_ppo.yaml",
                      [f"run_dir={tmp_path / 'run'}", "train.progress=false", f"surgery.name={surgery}", *budget])
    _, result = train(cfg)
    assert result.mean_success >= 0.9, result.per_task


def test_mtppo_resume_equals_uninterrupted(tmp_path):
    import json

    from mtrl.config import load_config
    from mtrl.train import train

    short = ["train.total_steps_per_task=1600", "train.log_every=400", "train.checkpoint_every=800",
             "train.eval_every=0", "train.eval_episodes=4", "train.progress=false", "agent.ppo.epochs=2",
             "agent.ppo.actor.hidden_sizes=[16]", "agent.ppo.critic.hidden_sizes=[16]"]
    straight, _ = train(load_config(ROOT / "configs" / "synthetic_ppo.yaml", [f"run_dir={tmp_path / 'a'}", *short]))
    with training_interrupted_at(800), pytest.raises(KeyboardInterrupt):  # like Ctrl-C
        train(load_config(ROOT / "configs" / "synthetic_ppo.yaml", [f"run_dir={tmp_path / 'b'}", *short]))
    resumed, _ = train(None, resume_dir=tmp_path / "b")

    def rows(p):
        skip = ("charts/env_steps_per_s", "charts/updates_per_s")
        return [{k: v for k, v in json.loads(line).items() if k not in skip} for line in p.read_text().splitlines()]

    assert rows(straight / "metrics.jsonl") == rows(resumed / "metrics.jsonl")
