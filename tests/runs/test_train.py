"""End-to-end training: the agent learns, resume equals an uninterrupted run, NaNs stop the run cleanly."""

import json
from pathlib import Path

import pytest

from mtrl import train as train_module
from mtrl.config import load_config
from mtrl.errors import NonFiniteLossError
from mtrl.evaluate_run import evaluate_run
from mtrl.train import train
from tests.helpers import ROOT, SYNTHETIC, rows_without_wall_clock, training_interrupted_at, without_wall_clock


@pytest.mark.slow
def test_mtsac_learns_the_synthetic_benchmark(tmp_path):
    """The README quick start: >= 90% mean success on 4 conflicting tasks within its budget on 2 CPU cores."""
    cfg = load_config(SYNTHETIC, [f"run_dir={tmp_path / 'run'}", "train.progress=false"])
    run_dir, result = train(cfg)
    assert result.episodes_per_task == 50
    assert result.mean_success >= 0.9, result.per_task
    recorded = json.loads((run_dir / "eval.json").read_text())
    assert recorded["mean_success"] == result.mean_success
    assert set(recorded["per_task"]) == set(result.per_task)
    # the run directory holds what the README promises
    for name in ("config.yaml", "env.json", "metrics.jsonl", "evals.jsonl"):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "tb").iterdir())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    keys = set().union(*rows)
    for key in ("charts/success_rate", "losses/critic_loss", "losses/actor_loss", "charts/alpha",
                "charts/env_steps_per_s", "eval/mean_success"):
        assert key in keys, key
    task = result.per_task and next(iter(result.per_task))
    assert f"charts/alpha/{task}" in keys and f"charts/success_rate/{task}" in keys
    # evaluating the saved checkpoint with the CLI path reproduces the final evaluation
    again = evaluate_run(run_dir, episodes=50, output=tmp_path / "again.json", verbose=False)
    assert again.per_task == result.per_task


SHORT = ["train.total_steps_per_task=1500", "train.random_steps_per_task=250", "train.log_every=250",
         "train.checkpoint_every=500", "train.eval_every=750", "train.eval_episodes=5", "train.progress=false",
         "agent.sac.actor.hidden_sizes=[32,32]", "agent.sac.critic.hidden_sizes=[32,32]",
         "agent.sac.batch_size_per_task=32", "surgery.name=pcgrad", "surgery.diagnostics_every=10"]


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    straight, _ = train(load_config(SYNTHETIC, [f"run_dir={tmp_path / 'a'}", *SHORT]))

    with training_interrupted_at(1000), pytest.raises(KeyboardInterrupt):  # like Ctrl-C
        train(load_config(SYNTHETIC, [f"run_dir={tmp_path / 'b'}", *SHORT]))
    assert sorted(p.name for p in (tmp_path / "b" / "checkpoints").iterdir())[-1] == "ckpt_0000001000.pt"
    resumed, _ = train(None, resume_dir=tmp_path / "b")

    a, b = rows_without_wall_clock(straight / "metrics.jsonl"), rows_without_wall_clock(resumed / "metrics.jsonl")
    assert [r["step"] for r in a] == [r["step"] for r in b]
    assert a == b, "a resumed run must log exactly the metrics of the uninterrupted run"
    assert without_wall_clock(json.loads((straight / "eval.json").read_text().replace(str(straight), ""))) == \
        without_wall_clock(json.loads((resumed / "eval.json").read_text().replace(str(resumed), "")))
    assert any("surgery/critic_conflict_fraction" in r for r in a)


def test_non_finite_loss_stops_with_a_clear_error_and_keeps_checkpoints(tmp_path):
    cfg = load_config(SYNTHETIC, [f"run_dir={tmp_path / 'run'}", *SHORT, "agent.sac.critic_lr=1e30",
                                  "agent.sac.max_grad_norm=0", "train.checkpoint_every=250"])
    with pytest.raises(NonFiniteLossError, match="non-finite loss"):
        train(cfg)
    for ckpt in (tmp_path / "run" / "checkpoints").iterdir():
        assert ckpt.stat().st_size > 0


@pytest.mark.metaworld
def test_mt10_smoke_on_real_metaworld(tmp_path):
    """A few hundred steps of MT10 on the real metaworld package: collect, update, checkpoint, evaluate."""
    cfg = load_config(ROOT / "configs" / "mt10_smoke.yaml", [f"run_dir={tmp_path / 'run'}", "train.progress=false"])
    run_dir, result = train(cfg)
    assert len(result.per_task) == 10 and "reach-v3" in result.per_task
    env = json.loads((run_dir / "env.json").read_text())
    assert env["reward_function_version"] == "v2" and env["max_episode_steps"] == 500
    assert env["obs_dim"] == 39 and env["action_dim"] == 4
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert any("losses/critic_loss/reach-v3" in r for r in rows)
    assert (run_dir / "checkpoints" / "ckpt_0000000500.pt").is_file()


def test_overlapped_updates_run_the_same_number_of_updates_one_step_staler(tmp_path):
    counts, losses = {}, {}
    for overlap in (False, True):
        cfg = load_config(SYNTHETIC, [f"run_dir={tmp_path / str(overlap)}", *SHORT, "train.total_steps_per_task=500",
                                      "train.eval_every=0", f"train.overlap_updates={str(overlap).lower()}"])
        trainer = train_module.Trainer(cfg, train_module.prepare_new_run_dir(cfg))
        trainer.run()
        counts[overlap] = trainer.agent.num_updates
        rows = [json.loads(line) for line in (tmp_path / str(overlap) / "metrics.jsonl").read_text().splitlines()]
        losses[overlap] = [row["losses/critic_loss"] for row in rows if "losses/critic_loss" in row]
    assert counts[True] == counts[False] == 500 - 250
    # the updates saw different buffers (one transition staler), so the runs differ, but both trained
    assert losses[True] and losses[True] != losses[False]
