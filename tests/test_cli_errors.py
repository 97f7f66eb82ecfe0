"""Bad input ends with a clear one-line error, no traceback, and never touches an existing run."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mtrl.cli import main
from mtrl.config import load_config
from mtrl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "configs" / "synthetic.yaml"
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
