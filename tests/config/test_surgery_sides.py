"""Per-side surgery configs (``surgery.actor``/``surgery.critic`` each with its own method) and the older form with
booleans, which still loads from YAML, from overrides, from a recorded config.yaml and on ``--resume``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import mtrl.train as train_module
from mtrl.agents.registry import build_agent
from mtrl.config import from_yaml_text, load_config, to_yaml
from mtrl.errors import ConfigError
from mtrl.train import train
from tests.helpers import SYNTHETIC, training_interrupted_at


def _write(tmp_path: Path, surgery: dict) -> Path:
    path = tmp_path / "cfg.yaml"
    config = yaml.safe_load(SYNTHETIC.read_text())
    config["surgery"] = surgery
    path.write_text(yaml.safe_dump(config))
    return path


def _methods(cfg) -> tuple[tuple, tuple]:
    return cfg.surgery.method("actor"), cfg.surgery.method("critic")


def test_each_side_takes_its_own_method_and_options(tmp_path):
    cfg = load_config(_write(tmp_path, {"actor": {"name": "pcgrad"},
                                        "critic": {"name": "fairgrad", "options": {"alpha": 2.0}}}))
    assert _methods(cfg) == (("pcgrad", {}), ("fairgrad", {"alpha": 2.0}))
    agent = build_agent(cfg, 6, 2, cfg.env.num_tasks, train_module.torch.device("cpu"))
    assert agent.actor_surgery.name == "pcgrad"
    assert agent.critic_surgery.name == "fairgrad" and agent.critic_surgery.alpha == 2.0
    assert cfg.surgery.label() == "actor=pcgrad,critic=fairgrad"


def test_name_and_options_apply_to_a_side_without_its_own():
    cfg = load_config(SYNTHETIC, ["surgery.name=cagrad", "surgery.options={c: 0.5}", "surgery.critic.name=mgda"])
    assert _methods(cfg) == (("cagrad", {"c": 0.5}), ("mgda", {}))


@pytest.mark.parametrize("actor,critic,expected", [
    (True, True, (("pcgrad", {"seed": 3}), ("pcgrad", {"seed": 3}))),
    (False, True, (("mean", {}), ("pcgrad", {"seed": 3}))),
    (True, False, (("pcgrad", {"seed": 3}), ("mean", {}))),
])
def test_the_older_form_with_booleans_still_loads(tmp_path, actor, critic, expected):
    old = {"name": "pcgrad", "options": {"seed": 3}, "actor": actor, "critic": critic}
    assert _methods(load_config(_write(tmp_path, old))) == expected
    overrides = ["surgery.name=pcgrad", "surgery.options={seed: 3}", f"surgery.actor={str(actor).lower()}",
                 f"surgery.critic={str(critic).lower()}"]
    assert _methods(load_config(SYNTHETIC, overrides)) == expected


def test_an_older_boolean_override_replaces_a_side_method_from_the_file(tmp_path):
    cfg = load_config(_write(tmp_path, {"name": "upgrad", "actor": {"name": "pcgrad"}}), ["surgery.actor=true"])
    assert _methods(cfg) == (("upgrad", {}), ("upgrad", {}))


def test_a_recorded_config_in_the_older_form_parses_and_the_new_one_round_trips():
    cfg = load_config(SYNTHETIC, ["surgery.name=nash_mtl", "surgery.critic.name=fairgrad"])
    assert _methods(from_yaml_text(to_yaml(cfg))) == _methods(cfg)
    recorded = yaml.safe_load(to_yaml(cfg))
    recorded["surgery"] = {"name": "nash_mtl", "options": {}, "actor": False, "critic": True,
                           "diagnostics_every": 1000}
    assert _methods(from_yaml_text(yaml.safe_dump(recorded))) == (("mean", {}), ("nash_mtl", {}))


@pytest.mark.parametrize("surgery,field", [({"critic": {"name": "fairgrd"}}, "surgery.critic"),
                                           ({"actor": {"name": "fairgrad", "options": {"alpha": 50}}},
                                            "surgery.actor"),
                                           ({"actor": {"nam": "pcgrad"}}, "nam")])
def test_bad_side_configs_are_errors_naming_the_field(tmp_path, surgery, field):
    with pytest.raises(ConfigError, match=field):
        load_config(_write(tmp_path, surgery))


def test_resume_of_a_run_recorded_in_the_older_form(tmp_path, monkeypatch):
    """A run whose config.yaml has ``actor: false, critic: true`` (written before per-side methods) resumes from
    its checkpoint (actor_surgery/critic_surgery states) with the mean on the actor and the method on the critic."""
    short = ["train.total_steps_per_task=1000", "train.random_steps_per_task=250", "train.log_every=250",
             "train.checkpoint_every=500", "train.eval_every=0", "train.eval_episodes=2", "train.progress=false",
             "agent.sac.actor.hidden_sizes=[16]", "agent.sac.critic.hidden_sizes=[16]",
             "agent.sac.batch_size_per_task=16", "surgery.name=nash_mtl", "surgery.actor.name=mean",
             f"run_dir={tmp_path / 'run'}"]
    with training_interrupted_at(500), pytest.raises(KeyboardInterrupt):  # like Ctrl-C
        train(load_config(SYNTHETIC, short))
    config_path = tmp_path / "run" / "config.yaml"
    recorded = yaml.safe_load(config_path.read_text())
    recorded["surgery"] = {"name": "nash_mtl", "options": {}, "actor": False, "critic": True,
                           "diagnostics_every": 1000}
    config_path.write_text(yaml.safe_dump(recorded))
    built = []
    monkeypatch.setattr(train_module, "build_agent",
                        lambda *a, **k: built.append(build_agent(*a, **k)) or built[-1])
    train(None, resume_dir=tmp_path / "run")
    assert built[0].actor_surgery.name == "mean" and built[0].critic_surgery.name == "nash_mtl"
    assert built[0].critic_surgery.step > 0  # the checkpointed Nash-MTL state came back and moved on
    # the final evaluation logs the tail-task metric next to the per-task successes (TensorBoard and metrics.jsonl)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    final = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert any(row.get("eval/worst_k/1") == final["worst_k"]["1"] == min(final["per_task"].values()) for row in rows)
