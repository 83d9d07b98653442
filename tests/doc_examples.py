"""The code of docs/plugins.md, so that tests run exactly what the documentation shows."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def python_file(name: str) -> str:
    """The doc's Python block whose first line is `# <name>`."""
    [block] = [block for block in code_blocks("python") if block.splitlines()[0] == f"# {name}"]
    return block


def write_python_file(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(python_file(name))
    return path
