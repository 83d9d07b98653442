"""An installed distribution as importlib.metadata sees one: `<name>-<version>.dist-info/` with METADATA and
entry_points.txt in a folder on sys.path. What `pip install` of a team's plugin package leaves behind,
without building or installing anything."""

from __future__ import annotations

from pathlib import Path


def write_distribution(folder: Path, name: str, entry_points: dict[str, dict[str, str]]) -> Path:
    """`entry_points`: group -> {entry-point name: `module:factory`}. Returns the dist-info folder."""
    info = folder / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    sections = [
        f"[{group}]\n" + "".join(f"{point} = {value}\n" for point, value in points.items())
        for group, points in entry_points.items()
    ]
    (info / "entry_points.txt").write_text("\n".join(sections))
    return info
