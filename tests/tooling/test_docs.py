"""The documentation site builds without a warning (broken links, missing pages), with the pages written from code
filled in: the configuration reference and the surgery methods table."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def test_the_docs_site_builds_strictly_with_the_generated_pages(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocs_gen_files")
    site = tmp_path / "site"
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], capture_output=True, text=True, env=env, cwd=ROOT)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "WARNING" not in log, log
    surgery = (site / "surgery" / "index.html").read_text()
    configuration = (site / "configuration" / "index.html").read_text()
    assert "generated:" not in surgery + configuration  # every marker was replaced
    from mtrl.surgery import list_methods

    for name in list_methods():
        assert f"<code>{name}</code>" in surgery, name
    assert "<code>agent.sac.actor</code>" in configuration and "discount factor" in configuration


def test_the_surgery_methods_table_is_the_registry():
    from mtrl.surgery import SURGERY_METHODS, method_options, methods_table

    rows = [line for line in methods_table().splitlines()[2:]]
    assert [row.split(" | ")[0].removeprefix("| `").removesuffix("`") for row in rows[:-1]] == list(SURGERY_METHODS)
    for name, row in zip(SURGERY_METHODS, rows, strict=False):
        assert all(f"`{option}=" in row for option in method_options(name)), name
        assert row.endswith("| yes |" if SURGERY_METHODS[name].needs_jacobian else "| no |"), name
    assert rows[-1].startswith("| `torchjd:<A>` |")
