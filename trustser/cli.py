"""The `trustser` command. `trustser init [DIR]` gives a team's repository its own copy of the audit:
`trust_tests/` (one module per pillar) and a commented `thresholds.toml`, from the installed package.

Nothing that exists is overwritten, so running it again after an upgrade adds only what is new.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trustser.pytest_plugin import packaged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trustser", description="TrustSER: a trust audit of speech emotion recognition models."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser(
        "init",
        help="write trust_tests/ and thresholds.toml into DIR (default: here)",
        description="Write the audit's trust_tests/ and a commented thresholds.toml into DIR, "
        "keeping every file that is already there.",
    )
    init.add_argument(
        "directory",
        nargs="?",
        default=".",
        metavar="DIR",
        type=Path,
        help="the repository to write into (default: the current directory); created if missing",
    )
    arguments = parser.parse_args(argv)
    return initialise(arguments.directory)


def initialise(directory: Path) -> int:
    """Copy the packaged suite and default gates into `directory`; 0 when done, 1 when it cannot be."""
    sources = packaged.suite_files()
    thresholds = packaged.default_thresholds()
    if not sources or thresholds is None:
        print(
            "trustser init: this trustser installation carries no packaged trust suite "
            "(install the package, e.g. `pip install -e .` in a checkout)",
            file=sys.stderr,
        )
        return 1
    copies = [(source, directory / packaged.SUITE_DIR_NAME / source.name) for source in sources]
    copies.append((thresholds, directory / packaged.THRESHOLDS_NAME))
    try:
        (directory / packaged.SUITE_DIR_NAME).mkdir(parents=True, exist_ok=True)
        for source, target in copies:
            print(f"{_copy_unless_present(source, target):<8} {target}")
    except OSError as error:
        print(f"trustser init: cannot write into {directory}: {error}", file=sys.stderr)
        return 1
    print(
        f"next: cd {directory} && pytest trust_tests  (thresholds.toml is read from pytest's rootdir; "
        'options: pytest --help, group "TrustSER trust audit")'
    )
    return 0


def _copy_unless_present(source: Path, target: Path) -> str:
    """'written', or 'kept' when `target` already exists (even if it differs: it is the team's now)."""
    try:
        with open(target, "xb") as copy:  # exclusive create: an existing file is never replaced
            copy.write(source.read_bytes())
    except FileExistsError:
        return "kept"
    return "written"


if __name__ == "__main__":
    sys.exit(main())
