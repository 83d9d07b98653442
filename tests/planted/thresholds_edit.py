"""A copy of `thresholds.toml` with some gates' settings changed, edited by table and key.

The file's comments stay (they say why each gate sits where it does), so the copy is edited line by
line rather than re-serialised; the result is parsed back to check that exactly the asked-for
values changed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else repr(value)


def thresholds_with(source: Path, target: Path, changes: dict[str, dict[str, object]]) -> Path:
    """Write `source` to `target` with `changes` ({"pillar.metric": {key: value}}) set in their tables."""
    lines, table = source.read_text().splitlines(), None
    pending = {name: dict(settings) for name, settings in changes.items()}
    edited: list[str] = []

    def flush() -> None:  # keys the table did not have yet go at its end, before the blank lines
        end = len(edited)
        while end and not edited[end - 1].strip():
            end -= 1
        edited[end:end] = [f"{key} = {_toml_value(value)}" for key, value in pending.pop(table, {}).items()]

    for line in lines:
        header = re.fullmatch(r"\[([^\]]+)\]\s*", line)
        if header:
            flush()
            table = header.group(1)
        else:
            assignment = re.match(r"(\w+)\s*=", line)
            if assignment and assignment.group(1) in pending.get(table, {}):
                line = f"{assignment.group(1)} = {_toml_value(pending[table].pop(assignment.group(1)))}"
        edited.append(line)
    flush()
    if pending:
        raise KeyError(f"{source} has no table(s) {sorted(pending)}")
    target.write_text("\n".join(edited) + "\n")
    parsed = tomllib.loads(target.read_text())
    for name, settings in changes.items():
        pillar, metric = name.split(".", 1)
        assert {k: parsed[pillar][metric][k] for k in settings} == settings, name
    return target
