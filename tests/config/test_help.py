"""The configuration reference written from the dataclasses: every field with its default, valid values and
meaning, shown by ``mtrl config --help [SECTION]``."""

from __future__ import annotations

import dataclasses

import pytest

from mtrl.cli import main
from mtrl.config import RunConfig
from mtrl.config_help import reference


def leaf_fields(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from leaf_fields(value, f"{prefix}{f.name}.")
        else:
            yield prefix, f, value


def test_every_field_is_in_the_reference_with_its_meaning():
    text = reference()
    rows = 0
    for section, f, _ in leaf_fields(RunConfig()):
        table = text.split(f"## `{section.rstrip('.')}`\n" if section else "## top level\n")[1].split("\n## ")[0]
        row = next((line for line in table.splitlines() if line.startswith(f"| `{f.name}` |")), None)
        assert row is not None, section + f.name
        assert f.metadata["help"].replace("|", "\\|") in row
        rows += 1
    assert rows > 100


def test_config_help_of_a_section_prints_defaults_ranges_choices_and_resume(capsys):
    assert main(["config", "--help", "agent.sac"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    assert "| `gamma` | `0.99` | `[0, 1]` |  | discount factor |" in out
    assert "| `log_std_bound` | `\"tanh\"` | `tanh, clip` |" in out
    assert "## `agent.sac.critic`" in out and "## `agent.ppo`" not in out and "## `train`" not in out
    assert main(["config", "-h", "train.eval_every"]) == 0
    out = capsys.readouterr().out
    assert "| `eval_every` | `100000` | `[0, inf)` | may change |" in out and "log_every" not in out


def test_config_help_without_a_section_covers_every_section(capsys):
    assert main(["config", "--help"]) == 0
    out = capsys.readouterr().out
    for section in ("top level", "`env`", "`agent.ppo.critic`", "`surgery.actor`", "`train`"):
        assert f"## {section}\n" in out


@pytest.mark.parametrize("name", ["agent.sack", "train.nope", "nope.gamma"])
def test_an_unknown_section_is_a_one_line_error_with_nothing_printed(capsys, name):
    assert main(["config", "--help", name]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"unknown config section or field {name!r}" in err
