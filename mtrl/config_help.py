"""The configuration reference, written from the config dataclasses: ``mtrl config --help [SECTION]`` prints it and
the docs page ``docs/configuration.md`` is generated from it (``docs/gen_pages.py``), so the two are one text.

Each section (a nested dataclass: ``env``, ``agent.sac``, ``agent.sac.actor``, ...) becomes a Markdown table of its
fields: name, default (as YAML writes it), valid values (the ``range`` or ``choices`` declared with
:func:`envs.fields.param`), whether the field may change on ``--resume``, and its one-line meaning.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from envs.fields import suggest
from mtrl.config import RunConfig
from mtrl.errors import ConfigError


def _yaml_value(value: Any) -> str:
    """A default as it would be written in a YAML config (``null``, ``true``, ``[400, 400]``)."""
    if isinstance(value, tuple):
        value = list(value)
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def _valid(field: dataclasses.Field) -> str:
    choices = field.metadata.get("choices")
    if choices is not None:
        return ", ".join(str(c) for c in (choices() if callable(choices) else choices))
    return field.metadata.get("range") or ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sections(obj: Any, prefix: str) -> Iterator[tuple[str, Any, str]]:
    """``(dotted name, section object, its meaning)`` of ``obj``'s nested sections, depth first."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield prefix + f.name, value, f.metadata.get("help", "")
            yield from _sections(value, f"{prefix}{f.name}.")


def section_table(name: str, section: Any, meaning: str = "") -> str:
    """The Markdown heading and field table of one section (``name`` dotted; ``""`` for the top level)."""
    title = f"`{name}`" if name else "top level"
    doc = (type(section).__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    lines = [f"## {title}", ""]
    lines += [f"{meaning}{': ' if meaning and doc else ''}{doc}", ""] if meaning or doc else []
    lines += ["| field | default | valid | on resume | meaning |", "| --- | --- | --- | --- | --- |"]
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            what, default = f"section `{name + '.' if name else ''}{f.name}`", ""
        else:
            what, default = _cell(f.metadata.get("help", "")), f"`{_cell(_yaml_value(value))}`"
        valid = _valid(f)
        resume = "may change" if f.metadata.get("resume") else ""
        lines.append(f"| `{f.name}` | {default} | {f'`{_cell(valid)}`' if valid else ''} | {resume} | {what} |")
    return "\n".join(lines) + "\n"


def reference(section: str = "") -> str:
    """The reference of ``section`` (dotted, e.g. ``agent.sac``; ``""``: the whole config) and of its nested
    sections, or of one field (``agent.sac.gamma``). Raises :class:`ConfigError` for an unknown name."""
    root = RunConfig()
    sections = {"": (root, "a whole training run")} | {n: (s, m) for n, s, m in _sections(root, "")}
    if section in sections:
        names = [n for n in sections if n == section or n.startswith(f"{section}.") or not section]
        return "\n".join(section_table(n, *sections[n]) for n in names)
    parent, _, field_name = section.rpartition(".")
    if parent in sections and field_name in {f.name for f in dataclasses.fields(sections[parent][0])}:
        table = section_table(parent, *sections[parent]).splitlines()
        head = table.index("| field | default | valid | on resume | meaning |")
        row = next(line for line in table if line.startswith(f"| `{field_name}` |"))
        return "\n".join([f"## `{section}`", "", *table[head:head + 2], row]) + "\n"
    valid = list(sections)[1:]
    raise ConfigError(f"unknown config section or field {section!r}{suggest(section, valid)}; sections: "
                      f"{', '.join(valid)}")
