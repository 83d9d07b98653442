"""`trustser init [DIR]` writes the packaged suite and default gates into a team's repository, and never
replaces a file that is already there."""

from __future__ import annotations

import filecmp

import pytest

from trustser.cli import main
from trustser.pytest_plugin import packaged
from trustser.vocabulary import PILLARS

PILLAR_MODULES = {f"test_{pillar}.py" for pillar in PILLARS}


def test_the_packaged_suite_is_this_repositorys_trust_tests():
    assert {path.name for path in packaged.suite_files()} == PILLAR_MODULES | {"__init__.py"}
    assert packaged.default_thresholds() is not None and packaged.default_thresholds().name == "thresholds.toml"


def test_init_writes_the_pillar_modules_and_the_commented_thresholds(tmp_path, capsys):
    team = tmp_path / "team"  # not there yet: created
    assert main(["init", str(team)]) == 0
    written = {path.name for path in (team / "trust_tests").iterdir()}
    assert written == PILLAR_MODULES | {"__init__.py"}
    for source in packaged.suite_files():
        assert filecmp.cmp(source, team / "trust_tests" / source.name, shallow=False)
    thresholds = (team / "thresholds.toml").read_text()
    assert thresholds == packaged.default_thresholds().read_text() and thresholds.startswith("#")
    output = capsys.readouterr().out
    assert output.count("written") == len(PILLAR_MODULES) + 2 and "kept" not in output


def test_init_keeps_every_file_that_is_already_there(tmp_path, capsys):
    main(["init", str(tmp_path)])
    (tmp_path / "thresholds.toml").write_text("# our own gates\n")
    (tmp_path / "trust_tests" / "test_utility.py").unlink()
    capsys.readouterr()
    assert main(["init", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (tmp_path / "thresholds.toml").read_text() == "# our own gates\n"
    assert [line.split()[0] for line in lines if "test_utility.py" in line] == ["written"]
    assert [line.split()[0] for line in lines if line.endswith("thresholds.toml")] == ["kept"]
    assert sum(line.startswith("kept") for line in lines) == len(PILLAR_MODULES) + 1  # all but test_utility.py


def test_init_into_a_directory_it_cannot_write_fails_with_one_line_naming_it(tmp_path, capsys):
    not_a_directory = tmp_path / "notes.txt"
    not_a_directory.write_text("a file, not a directory")
    assert main(["init", str(not_a_directory)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"trustser init: cannot write into {not_a_directory}:") and len(error.splitlines()) == 1


def test_init_without_a_packaged_suite_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(packaged, "suite_dir", lambda: None)  # trustser run from a bare PYTHONPATH, not installed
    assert main(["init", str(tmp_path)]) == 1
    assert "carries no packaged trust suite" in capsys.readouterr().err and not any(tmp_path.iterdir())


def test_init_is_a_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2 and "init" in capsys.readouterr().err
