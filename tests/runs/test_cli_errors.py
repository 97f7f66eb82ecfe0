"""Bad input ends with a clear one-line error, no traceback, and never touches an existing run."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mtrl.cli import main
from mtrl.config import load_config
from mtrl.errors import ConfigError
from mtrl.runs.layout import LOCK_FILES
from tests.helpers import ROOT, SYNTHETIC

TINY = ["train.total_steps_per_task=100", "train.random_steps_per_task=50", "train.log_every=50",
        "train.checkpoint_every=50", "train.eval_every=0", "train.eval_episodes=2", "train.progress=false",
        "agent.sac.actor.hidden_sizes=[16]", "agent.sac.critic.hidden_sizes=[16]",
        "agent.sac.batch_size_per_task=8", "env.eval_envs_per_task=2"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtrl.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("train", "evaluate", "bench", "config"):
        assert command in proc.stdout


@pytest.mark.parametrize(
    "overrides,fragments",
    [
        (["env.benchmark=MT11"], ["MT11", "MT10"]),
        (["env.benchmark=custom", "env.tasks=[reach-v3,pick-plcae-v3]"], ["pick-plcae-v3", "pick-place-v3"]),
        (["agent.sac.no_such_key=1"], ["no_such_key"]),
        (["train.total_steps_per_task=lots"], ["total_steps_per_task"]),
        (["surgery.name=pcgard"], ["pcgard", "pcgrad"]),
        (["surgery.name=cagrad", "surgery.options={cc: 0.5}"], ["cc"]),
        (["agent.name=ddpg"], ["ddpg", "mtsac"]),
        (["train.log_every=0"], ["train.log_every"]),
    ],
)
def test_config_errors_name_the_problem(overrides, fragments):
    with pytest.raises(ConfigError) as err:
        load_config(SYNTHETIC, overrides)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_cli_config_errors_are_one_line(tmp_path):
    one_line_error(run_cli("train", str(tmp_path / "missing.yaml")), "not found")
    bad = tmp_path / "bad.yaml"
    bad.write_text("env: [unclosed\n")
    one_line_error(run_cli("train", str(bad)), "malformed")
    one_line_error(run_cli("train", str(SYNTHETIC), "env.benchmark=MT11"), "MT11")
    one_line_error(run_cli("train", str(SYNTHETIC), "nokeyvalue"), "key=value")


def test_existing_run_is_never_overwritten_and_bad_checkpoints_are_clear(tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", str(SYNTHETIC), f"run_dir={run_dir}", *TINY]) == 0
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    proc = run_cli("train", str(SYNTHETIC), f"run_dir={run_dir}", *TINY)
    one_line_error(proc, "not empty", "--resume")
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert before == after, "a refused run must not change the existing run directory"

    # a checkpoint from a different architecture
    ckpt = sorted((run_dir / "checkpoints").iterdir())[-1]
    other = tmp_path / "other"
    assert main(["train", str(SYNTHETIC), f"run_dir={other}", *TINY[:-3], "agent.sac.actor.hidden_sizes=[32]",
                 "agent.sac.critic.hidden_sizes=[32]", "agent.sac.batch_size_per_task=8",
                 "env.eval_envs_per_task=2"]) == 0
    foreign = other / "checkpoints" / ckpt.name
    foreign.write_bytes(ckpt.read_bytes())  # run/other's config, run's weights (hidden 16 vs 32)
    state = torch.load(foreign, weights_only=False)
    state["config"] = (other / "config.yaml").read_text()
    torch.save(state, foreign)
    one_line_error(run_cli("evaluate", str(foreign), "--episodes", "1"), "does not fit")
    one_line_error(run_cli("train", "--resume", str(other)), "does not fit")

    # a corrupt checkpoint
    newest = sorted((run_dir / "checkpoints").iterdir())[-1]
    newest.write_bytes(newest.read_bytes()[:100])
    one_line_error(run_cli("evaluate", str(run_dir)), "corrupt checkpoint")
    one_line_error(run_cli("evaluate", str(tmp_path / "nowhere")), "nowhere")


# ------------------------------------------------------------------------------------ one validation pass
WARP_INSTALLED = importlib.util.find_spec("mujoco_warp") is not None
INVALID = [  # (overrides, the dotted field the one-line error must name)
    (["agent.sac.actor_lr=-3e-4"], "agent.sac.actor_lr"),
    (["agent.sac.critic_lr=-1"], "agent.sac.critic_lr"),
    (["agent.sac.alpha_lr=-1"], "agent.sac.alpha_lr"),
    (["agent.ppo.lr=-1"], "agent.ppo.lr"),
    (["agent.sac.actor.encoder=transformer"], "agent.sac.actor.encoder"),
    (["agent.sac.critic.conditioning=telepathy"], "agent.sac.critic.conditioning"),
    (["agent.sac.actor.heads=many"], "agent.sac.actor.heads"),
    (["agent.sac.actor.hidden_sizes=[0]"], "agent.sac.actor.hidden_sizes"),
    (["agent.sac.critic.hidden_sizes=[]"], "agent.sac.critic.hidden_sizes"),
    (["agent.sac.actor_update_every=0"], "agent.sac.actor_update_every"),
    (["agent.sac.target_update_every=0"], "agent.sac.target_update_every"),
    (["surgery.name=cagrad", "surgery.options.c=abc"], "'c'"),
    (["surgery.name=pcgrad", "surgery.options.seed=1.5"], "'seed'"),
    (["agent.sac.gamma=1.5"], "agent.sac.gamma"),
    (["agent.ppo.gamma=-0.1"], "agent.ppo.gamma"),
    (["agent.sac.tau=-0.1"], "agent.sac.tau"),
    (["agent.sac.init_temperature=0"], "agent.sac.init_temperature"),
    (["agent.sac.init_temperature=-1"], "agent.sac.init_temperature"),
    (["agent.sac.log_std_min=3", "agent.sac.log_std_max=2"], "agent.sac.log_std_min"),
    (["env.tasks=[foo]"], "env.tasks"),
    (["env.benchmark=MT10", "env.tasks=[foo]"], "env.tasks"),
    (["env.benchmark=MT10", "env.backend=warp", "env.warp_reset_states=/no/such/export.npz"],
     "env.warp_reset_states"),
    pytest.param(["env.benchmark=MT10", "env.backend=warp", f"env.warp_reset_states={SYNTHETIC}"], "env.backend",
                 marks=pytest.mark.skipif(WARP_INSTALLED, reason="checks the hint given outside .venv-warp")),
    (["train.eval_every=-1"], "train.eval_every"),
    (["seed=-1"], "seed"),
]


def _refused(capsys: pytest.CaptureFixture, argv: list[str], field: str) -> None:
    """``mtrl ARGV`` (in-process) exits 2 with one stderr line naming ``field``, and nothing else."""
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and field in lines[0], lines


@pytest.mark.parametrize("command", ["train", "config"])
@pytest.mark.parametrize("overrides,field", INVALID)
def test_every_invalid_value_is_refused_before_anything_is_written(tmp_path, capsys, command, overrides, field):
    run_dir = tmp_path / "run"
    _refused(capsys, [command, str(SYNTHETIC), f"run_dir={run_dir}", *overrides], field)
    assert not run_dir.exists()


@pytest.mark.parametrize("command", ["train", "config"])
def test_run_dir_naming_a_file_and_an_empty_config_are_refused(tmp_path, capsys, command):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    _refused(capsys, [command, str(SYNTHETIC), f"run_dir={existing}"], "run_dir")
    assert existing.read_text() == "mine"
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    _refused(capsys, [command, str(empty), f"run_dir={tmp_path / 'run'}"], "empty config file")
    assert not (tmp_path / "run").exists()


def test_invalid_value_in_a_real_process_is_one_line():
    one_line_error(run_cli("train", str(SYNTHETIC), "agent.sac.gamma=1.5"), "agent.sac.gamma", "[0, 1]")


# ------------------------------------------------------------------------- resume and an edited config.yaml
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("resume") / "run"
    assert main(["train", str(SYNTHETIC), f"run_dir={run_dir}", *TINY]) == 0
    return run_dir


def _snapshot(run_dir: Path) -> dict[Path, bytes]:
    """The run's files, without the run-dir lock's own (the refused command held the lock: its owner record)."""
    return {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and p.name not in LOCK_FILES}


@pytest.mark.parametrize("old,new,fragment", [
    ("actor_lr: 0.0003", "actor_lr: 0.5", "agent.sac.actor_lr"),
    ("encoder: mlp", "encoder: moe", "agent.sac.actor.encoder"),
    ("buffer_capacity_per_task: 10000", "buffer_capacity_per_task: 500", "train.buffer_capacity_per_task"),
    ("name: mean", "name: pcgrad", "surgery.name"),
    ("batch_size_per_task: 8", "batch_size_per_task: 0", "agent.sac.batch_size_per_task"),
    ("  gamma: 0.95", "  gamma: 0.95\n  foo: [", "line"),
])
def test_resume_refuses_an_edit_the_checkpoint_cannot_honour(finished_run, tmp_path, capsys, old, new, fragment):
    run_dir = tmp_path / "run"
    shutil.copytree(finished_run, run_dir)
    config = run_dir / "config.yaml"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new, 1))
    before = _snapshot(run_dir)
    _refused(capsys, ["train", "--resume", str(run_dir)], fragment)
    assert _snapshot(run_dir) == before


def test_resume_applies_an_allowed_edit(finished_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(finished_run, run_dir)
    config = run_dir / "config.yaml"
    config.write_text(config.read_text().replace("total_steps_per_task: 100", "total_steps_per_task: 150", 1))
    assert main(["train", "--resume", str(run_dir)]) == 0
    newest = sorted((run_dir / "checkpoints").iterdir())[-1]
    assert newest.name == "ckpt_0000000150.pt"  # trained on to the raised budget
    assert "total_steps_per_task: 150" in torch.load(newest, weights_only=False)["config"]
