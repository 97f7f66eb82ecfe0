"""Fill the docs pages written from code (run by mkdocs-gen-files during `mkdocs build`).

A page holds a marker comment where generated text goes: ``<!-- generated: config-reference -->`` becomes
:func:`mtrl.config_help.reference` (the text `mtrl config --help` prints), ``<!-- generated: surgery-methods -->``
the registry's table (:func:`mtrl.surgery.methods_table`) and ``<!-- generated: surgery-notes -->`` the
definition choices and references of :mod:`mtrl.surgery`'s docstring.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's mtrl, not an installed one

import mtrl.surgery  # noqa: E402
from mtrl.config_help import reference  # noqa: E402


def surgery_notes() -> str:
    """The part of mtrl.surgery's docstring from its references to its numerics, as Markdown."""
    doc = mtrl.surgery.__doc__ or ""
    notes = doc[doc.index("References:"):doc.index("Adding a method")]
    lines = []
    for line in notes.replace("References:", "### References\n").splitlines():
        lines.append(f"- {line}" if line.startswith("[") else line)
    return "\n".join(lines).replace("Definition choices", "\n### Definition choices").replace(
        "Numerics:", "### Numerics\n\nNumerics:")


GENERATED = {
    "config-reference": lambda: reference().replace("\n## ", "\n### ").replace("## top level", "### top level", 1),
    "surgery-methods": mtrl.surgery.methods_table,
    "surgery-notes": surgery_notes,
}

for page in ("configuration.md", "surgery.md"):
    text = (ROOT / "docs" / page).read_text()
    for key, generate in GENERATED.items():
        text = text.replace(f"<!-- generated: {key} -->", generate())
    with mkdocs_gen_files.open(page, "w") as out:
        out.write(text)
