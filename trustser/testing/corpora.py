"""The corpus contract as rules: what the audit relies on from every `Corpus`."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from trustser.corpora.attributes import ATTRIBUTES, Scale
from trustser.corpora.audio import MAX_PEAK, MIN_SECONDS
from trustser.corpora.base import GENDERS, Corpus, Dropped, Utterance
from trustser.corpora.folds import Fold, check_speaker_independence
from trustser.testing.rules import Check, is_count, is_nonempty_text, require, run_rule


@dataclass(frozen=True)
class _Options:
    folds: int  # k, as the audit's --folds
    seed: int
    load_at_most: int | None  # utterances whose audio is loaded, spread over the corpus; None: all


def _declared_corpus_attributes(corpus: Corpus, options: _Options) -> None:
    require(isinstance(corpus, Corpus), f"it is a {type(corpus).__name__}, not a trustser.corpora.Corpus")
    require(is_nonempty_text(corpus.name), f"name must be a non-empty string, got {corpus.name!r}")
    require(is_count(corpus.sample_rate), f"sample_rate must be a positive int, got {corpus.sample_rate!r}")
    emotions = corpus.emotions
    if isinstance(emotions, (tuple, list)) and not emotions:  # no categories: a corpus rating attributes only
        require(
            isinstance(corpus.attribute_scale, Scale),
            "a corpus without emotions (dimensional only) must declare an attribute_scale, got "
            f"{corpus.attribute_scale!r}",
        )
    require(
        isinstance(emotions, (tuple, list))
        and (len(emotions) >= 2 or not emotions)
        and all(map(is_nonempty_text, emotions))
        and len(set(emotions)) == len(emotions),
        f"emotions must be a sequence of at least two distinct names (class-index order), or empty for a corpus "
        f"rating attributes only, got {emotions!r}",
    )
    scheme = corpus.fold_scheme(options.folds)
    require(is_nonempty_text(scheme), f"fold_scheme({options.folds}) must describe the folds in words, got {scheme!r}")


def _has_utterances(corpus: Corpus, options: _Options) -> None:
    utterances = corpus.utterances
    require(len(utterances) > 0, "it has no utterances")
    require(len(corpus) == len(utterances), f"len() is {len(corpus)} but it has {len(utterances)} utterances")
    for utterance in utterances:
        require(isinstance(utterance, Utterance), f"utterances must be Utterance records, got {utterance!r}")
        require(
            is_nonempty_text(utterance.id) and is_nonempty_text(utterance.speaker),
            f"every utterance needs a non-empty id and speaker, got {utterance!r}",
        )


def _unique_ids(corpus: Corpus, options: _Options) -> None:
    repeated = sorted(i for i, n in Counter(u.id for u in corpus.utterances).items() if n > 1)
    require(not repeated, f"{len(repeated)} utterance id(s) occur more than once, e.g. {repeated[:5]}")


def _emotions_in_label_set(corpus: Corpus, options: _Options) -> None:
    if not corpus.emotions:  # dimensional only: no utterance names a category, each carries ratings instead
        odd = [u for u in corpus.utterances if u.emotion != "" or not u.attributes]
        require(
            not odd,
            f"a corpus without emotions needs every utterance rated and without an emotion, e.g. {odd[:1]!r}",
        )
        return
    outside = [u for u in corpus.utterances if u.emotion not in corpus.emotions]
    if outside:
        raise AssertionError(
            f"{len(outside)} utterance(s) have an emotion outside {tuple(corpus.emotions)}, e.g. "
            f"{outside[0].id!r}: {outside[0].emotion!r} (leave them out, listed in `dropped`)"
        )


def _recognised_genders(corpus: Corpus, options: _Options) -> None:
    unknown = [u for u in corpus.utterances if u.gender not in GENDERS]
    if unknown:
        raise AssertionError(
            f"{len(unknown)} utterance(s) have a gender outside {GENDERS}, e.g. {unknown[0].id!r}: "
            f"{unknown[0].gender!r}"
        )
    genders: dict[str, set[str]] = {}
    for utterance in corpus.utterances:
        genders.setdefault(utterance.speaker, set()).add(utterance.gender)
    mixed = sorted(speaker for speaker, found in genders.items() if len(found) > 1)
    require(not mixed, f"speaker(s) {mixed[:5]} have utterances of more than one gender")


def _attributes_on_scale(corpus: Corpus, options: _Options) -> None:
    """Attributes, where utterances carry them, are named from ATTRIBUTES, in its order, and rated within the
    corpus's declared `attribute_scale`."""
    rated = [u for u in corpus.utterances if u.attributes]
    if not rated:
        return
    scale = corpus.attribute_scale
    require(
        isinstance(scale, Scale),
        f"{len(rated)} utterance(s) carry attributes but attribute_scale is {scale!r}, not a Scale",
    )
    for utterance in rated:
        names = [name for name, _ in utterance.attributes]
        require(
            names == [a for a in ATTRIBUTES if a in names],
            f"{utterance.id!r}: attributes must be named from {ATTRIBUTES}, in that order, got {names}",
        )
        outside = {n: v for n, v in utterance.attributes if not scale.low <= v <= scale.high}
        require(not outside, f"{utterance.id!r}: attributes {outside} outside the {scale.describe()} scale")


def _stable_corpus_fingerprint(corpus: Corpus, options: _Options) -> None:
    fingerprint = corpus.fingerprint()
    require(is_nonempty_text(fingerprint), f"fingerprint() must return a non-empty string, got {fingerprint!r}")
    require(corpus.fingerprint() == fingerprint, "fingerprint() changed between two calls")


def _checked_utterances(corpus: Corpus, load_at_most: int | None) -> list[Utterance]:
    utterances = corpus.utterances
    if load_at_most is None or load_at_most >= len(utterances):
        return list(utterances)
    return [utterances[i] for i in np.unique(np.linspace(0, len(utterances) - 1, load_at_most).round().astype(int))]


def _audio_loads(corpus: Corpus, options: _Options) -> None:
    rate = corpus.sample_rate
    for utterance in _checked_utterances(corpus, options.load_at_most):
        wave = corpus.load_audio(utterance.id)
        what = f"load_audio({utterance.id!r})"
        require(
            isinstance(wave, np.ndarray) and wave.ndim == 1 and wave.dtype == np.float32,
            f"{what} must return a mono float32 numpy array, got "
            f"{getattr(wave, 'dtype', type(wave).__name__)} of shape {getattr(wave, 'shape', '?')}",
        )
        require(np.isfinite(wave).all(), f"{what} has NaN or infinite samples")
        # what audio.py turns away as bad data; encoders are only required to handle audio it lets through
        require(
            len(wave) >= MIN_SECONDS * rate,
            f"{what} is {len(wave)} samples, under the {MIN_SECONDS} s every encoder can use",
        )
        peak = float(np.abs(wave).max())
        require(
            0 < peak <= MAX_PEAK,
            f"{what} peaks at {peak:.3g}; audio must be neither digital silence nor beyond {MAX_PEAK}",
        )
        seconds = corpus.seconds(utterance.id)
        require(
            abs(seconds * rate - len(wave)) <= 1,
            f"seconds({utterance.id!r}) is {seconds:.4f} s = {seconds * rate:.1f} samples at the declared "
            f"{rate} Hz, but {what} gave {len(wave)} samples",
        )


def _reproducible_folds(corpus: Corpus, options: _Options) -> None:
    first = corpus.folds(options.folds, options.seed)
    require(
        isinstance(first, list) and first and all(isinstance(f, Fold) for f in first),
        f"folds({options.folds}, seed={options.seed}) must return a non-empty list of Fold, got {first!r}",
    )
    require(
        [f.index for f in first] == list(range(len(first))),
        f"fold indices must be 0..{len(first) - 1} in order, got {[f.index for f in first]}",
    )
    require(
        corpus.folds(options.folds, options.seed) == first,
        f"folds({options.folds}, seed={options.seed}) gave other folds on a second call",
    )


def _speaker_independent_folds(corpus: Corpus, options: _Options) -> None:
    made = corpus.folds(options.folds, options.seed)
    check_speaker_independence(made)
    for fold in made:
        both = sorted(set(fold.train_speakers) & set(fold.dev_speakers))
        require(not both, f"fold {fold.index}: speakers {both} are both trained on and used for early stopping")


def _folds_cover_the_corpus(corpus: Corpus, options: _Options) -> None:
    """Every speaker has a place, none is tested twice, and the scheme's promise holds: official
    partitions (utterances carry a `split`) test exactly the test* splits and never train on them;
    otherwise every speaker is tested once, and the default k-fold has k gender-balanced folds."""
    made = corpus.folds(options.folds, options.seed)
    speakers = {u.speaker for u in corpus.utterances}
    for fold in made:
        used = set(fold.train_speakers) | set(fold.dev_speakers) | set(fold.test_speakers)
        require(used <= speakers, f"fold {fold.index} names speakers not in the corpus: {sorted(used - speakers)[:5]}")
        require(fold.train_speakers and fold.test_speakers, f"fold {fold.index} has no training or no test speakers")
    tested = Counter(s for fold in made for s in fold.test_speakers)
    twice = sorted(s for s, n in tested.items() if n > 1)
    require(not twice, f"speakers {twice[:5]} are tested in more than one fold")
    used = {s for fold in made for s in (*fold.train_speakers, *fold.dev_speakers, *fold.test_speakers)}
    require(used == speakers, f"speakers {sorted(speakers - used)[:5]} are in no fold")
    split_of = {u.speaker: u.split for u in corpus.utterances if u.split}
    if split_of:
        official_test = {s for s, split in split_of.items() if split.lower().startswith("test")}
        require(
            set(tested) == official_test,
            f"the folds test speakers {sorted(tested)[:5]}, the official test "
            f"partitions hold {sorted(official_test)[:5]}",
        )
        learned = {s for fold in made for s in (*fold.train_speakers, *fold.dev_speakers)}
        require(
            not learned & official_test,
            f"speakers {sorted(learned & official_test)[:5]} of an official "
            "test partition are trained on or used for early stopping",
        )
        return
    require(set(tested) == speakers, f"speakers {sorted(speakers - set(tested))[:5]} are never tested")
    if corpus.fold_scheme(options.folds) == Corpus.fold_scheme(corpus, options.folds):  # gender-balanced k-fold
        require(len(made) == options.folds, f"the scheme promises {options.folds} folds, there are {len(made)}")
        gender_of = {u.speaker: u.gender for u in corpus.utterances}
        for gender in sorted(set(gender_of.values())):
            counts = [sum(gender_of[s] == gender for s in fold.test_speakers) for fold in made]
            require(max(counts) - min(counts) <= 1, f"{gender} test speakers per fold are {counts}: not balanced")


def _dropped_items_say_why(corpus: Corpus, options: _Options) -> None:
    for item in corpus.dropped:
        require(isinstance(item, Dropped), f"dropped must hold Dropped records, got {item!r}")
        require(
            is_nonempty_text(item.item) and is_nonempty_text(item.reason) and isinstance(item.bad, bool),
            f"a dropped item needs a non-empty item and reason and a bool `bad`, got {item!r}",
        )


_CORPUS_RULES = {
    "declared_attributes": _declared_corpus_attributes,
    "has_utterances": _has_utterances,
    "unique_ids": _unique_ids,
    "emotions_in_label_set": _emotions_in_label_set,
    "recognised_genders": _recognised_genders,
    "attributes_on_scale": _attributes_on_scale,
    "stable_fingerprint": _stable_corpus_fingerprint,
    "audio_loads": _audio_loads,
    "reproducible_folds": _reproducible_folds,
    "speaker_independent_folds": _speaker_independent_folds,
    "folds_cover_the_corpus": _folds_cover_the_corpus,
    "dropped_items_say_why": _dropped_items_say_why,
}
CORPUS_RULES: tuple[str, ...] = tuple(_CORPUS_RULES)


def corpus_checks(
    corpus: Corpus, *, folds: int = 4, seed: int = 0, load_at_most: int | None = None
) -> Iterator[tuple[str, Check]]:
    """Each rule of the corpus contract as `(rule, check)`; `check()` raises AssertionError if broken.

    `folds` and `seed` are passed to `corpus.folds` (the audit's defaults); `load_at_most` limits how
    many utterances, spread evenly over the corpus, have their audio loaded (None: all).
    """
    label = f"corpus {getattr(corpus, 'name', '?')!r} ({type(corpus).__name__})"
    options = _Options(folds, seed, load_at_most)
    for rule, body in _CORPUS_RULES.items():
        yield rule, functools.partial(run_rule, label, rule, functools.partial(body, corpus, options))


def check_corpus(corpus: Corpus, *, folds: int = 4, seed: int = 0, load_at_most: int | None = None) -> None:
    """Raise AssertionError, naming the corpus and the rule, at the first contract rule it breaks."""
    for _, check in corpus_checks(corpus, folds=folds, seed=seed, load_at_most=load_at_most):
        check()
