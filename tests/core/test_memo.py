"""Evaluations take their settings dataclass whole: memoised per run by its values, and stored on disk
under a key of plain values, the same as if each setting had been passed by name."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from trustser.cache.store import Cache
from trustser.run.memo import Memo, _arguments, memoised, stored


@dataclass(frozen=True)
class Knobs:
    budget_db: float = 45.0
    curve_db: tuple[float, ...] = ()


@dataclass(frozen=True)
class Outcome:
    budget_db: float
    curve: tuple[float, ...]
    calls: int


def a_run(tmp_path):
    return SimpleNamespace(memo=Memo(), cache=Cache(tmp_path), fingerprint="run-1")


def test_a_settings_argument_counts_as_its_fields_by_name():
    def by_settings(run, settings: Knobs, *, extra: int = 3): ...

    def by_name(run, *, budget_db: float, curve_db: tuple[float, ...], extra: int = 3): ...

    whole = _arguments(by_settings, None, (Knobs(curve_db=(1.0, 2.0)),), {})
    assert whole == {"budget_db": 45.0, "curve_db": (1.0, 2.0), "extra": 3}
    assert whole == _arguments(by_name, None, (), {"budget_db": 45.0, "curve_db": [1.0, 2.0]})
    assert _arguments(by_settings, None, (), {"settings": Knobs(curve_db=(1.0, 2.0))}) == whole


def test_a_settings_field_may_not_shadow_another_argument():
    def clash(run, settings: Knobs, *, budget_db: float = 0.0): ...

    with pytest.raises(TypeError, match="'budget_db' is given twice"):
        _arguments(clash, None, (Knobs(),), {})


def test_equal_settings_share_one_memoised_result_and_other_settings_do_not(tmp_path):
    calls = []

    @memoised
    def evaluate(run, settings: Knobs) -> int:
        calls.append(settings)
        return len(calls)

    run = a_run(tmp_path)
    assert evaluate(run, Knobs()) == evaluate(run, Knobs(budget_db=45)) == evaluate(run, settings=Knobs()) == 1
    assert evaluate(run, Knobs(curve_db=(20.0,))) == 2


def test_a_stored_result_is_found_again_by_its_settings_values(tmp_path):
    calls = []

    @stored(Outcome, version="1")
    def evaluate(run, settings: Knobs) -> Outcome:
        calls.append(settings)
        return Outcome(settings.budget_db, settings.curve_db, len(calls))

    first = evaluate(a_run(tmp_path), Knobs(curve_db=(20.0, 30.0)))
    again = evaluate(a_run(tmp_path), Knobs(curve_db=(20.0, 30.0)))  # a fresh run: no memo, the same cache
    assert again == first == Outcome(45.0, (20.0, 30.0), 1) and len(calls) == 1
    assert evaluate(a_run(tmp_path), Knobs(budget_db=40.0)).calls == 2
    assert len(list((tmp_path / "results").glob("*.json"))) == 2
