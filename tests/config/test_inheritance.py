"""``base:`` in a training config: the arch configs resolve as their full forms did; base chains, relative paths,
override order, and the errors for a missing base, a cycle and a malformed ``base`` value."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mtrl.config import load_config, to_yaml
from mtrl.errors import ConfigError
from tests.helpers import ROOT

BEFORE = OmegaConf.to_container(OmegaConf.load(ROOT / "tests" / "data" / "arch_configs_before.yaml"))
ARCH_CONFIGS = sorted((ROOT / "configs").glob("arch_*.yaml"))


def test_the_snapshot_covers_every_arch_config():
    assert sorted(BEFORE) == [p.name for p in ARCH_CONFIGS] and len(ARCH_CONFIGS) == 14


@pytest.mark.parametrize("path", ARCH_CONFIGS, ids=lambda p: p.stem)
def test_arch_config_resolves_as_its_full_form_did(path, tmp_path):
    full = tmp_path / path.name
    full.write_text(OmegaConf.to_yaml(OmegaConf.create(BEFORE[path.name])))
    assert to_yaml(load_config(path)) == to_yaml(load_config(full))
    assert OmegaConf.load(path).get("base") in ("mt10_mtsac.yaml", "mt50_mtsac.yaml")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_chain_merges_key_by_key_and_overrides_come_last(tmp_path):
    write(tmp_path, "a.yaml", "name: a\nseed: 3\nagent: {sac: {actor: {hidden_sizes: [8, 8], heads: shared}}}\n")
    write(tmp_path, "sub/b.yaml", "base: ../a.yaml\nname: b\nagent: {sac: {actor: {hidden_sizes: [4]}}}\n")
    c = write(tmp_path, "sub/c.yaml", "base: b.yaml\nseed: 5\n")
    cfg = load_config(c, ["seed=7"])
    assert (cfg.name, cfg.seed) == ("b", 7)
    assert cfg.agent.sac.actor.hidden_sizes == [4]  # a list replaces the base's list
    assert cfg.agent.sac.actor.heads == "shared"  # the rest of a section comes from the base
    assert "base" not in to_yaml(cfg)


def test_a_base_is_found_from_the_working_directory_too(tmp_path, monkeypatch):
    write(tmp_path, "configs/a.yaml", "seed: 11\n")
    other = write(tmp_path, "elsewhere/b.yaml", "base: configs/a.yaml\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(other).seed == 11


@pytest.mark.parametrize(("files", "match"), [
    ({"b.yaml": "base: missing.yaml\n"}, r"b\.yaml: base config missing\.yaml not found"),
    ({"b.yaml": "base: a.yaml\n", "a.yaml": "base: b.yaml\nseed: 1\n"}, r"base configs form a cycle: .*b\.yaml"),
    ({"b.yaml": "base: b.yaml\nseed: 1\n"}, "cycle"),
    ({"b.yaml": "base: [a.yaml]\n"}, "base must name a training config file"),
    ({"b.yaml": "base: a.yaml\n", "a.yaml": "seed: -1\n"}, "seed must be"),
    ({"b.yaml": "base: a.yaml\n", "a.yaml": "sed: 1\n"}, "sed"),
])
def test_a_bad_base_is_a_one_line_error(tmp_path, files, match):
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=match) as err:
        load_config(tmp_path / "b.yaml")
    assert "\n" not in str(err.value)


def test_compare_configs_find_their_base_by_the_same_rule(tmp_path, monkeypatch):
    from mtrl.compare import load_compare_config

    beside = write(tmp_path, "sweeps/train.yaml", "seed: 1\n")
    write(tmp_path, "train.yaml", "seed: 2\n")
    compare = write(tmp_path, "sweeps/compare.yaml", "base: train.yaml\ngrid: {seed: [0]}\n")
    monkeypatch.chdir(tmp_path)
    assert load_compare_config(compare)[1] == beside
    beside.unlink()
    assert load_compare_config(compare)[1] == Path("train.yaml")
