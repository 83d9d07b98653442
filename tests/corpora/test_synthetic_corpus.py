"""The built-in synthetic corpus: content, options, determinism and atomic generation."""

import hashlib
from collections import Counter

import pytest

from trustser.corpora import EMOTIONS, create, speaker_folds
from trustser.corpora.espeak import Prosody, espeak
from trustser.corpora.folds import check_speaker_independence
from trustser.errors import SpecError


def audio_digest(corpus) -> str:
    digest = hashlib.sha256()
    for utterance in corpus.utterances:
        digest.update(corpus.load_audio(utterance.id).tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return create("synthetic:speakers=4,sentences=3,seed=1", tmp_path_factory.mktemp("cache"))


def test_every_speaker_says_every_sentence_in_every_emotion(small):
    assert len(small) == 4 * 3 * len(EMOTIONS)
    assert Counter(small.column("emotion")) == {e: 12 for e in EMOTIONS}
    genders = {u.speaker: u.gender for u in small.utterances}
    assert Counter(genders.values()) == {"female": 2, "male": 2}
    assert len(set(small.column("sentence"))) == 3
    assert len(set(small.column("id"))) == len(small)


def test_audio_is_16khz_mono_speech(small):
    for utterance in small.utterances[:8]:
        wave = small.load_audio(utterance.id)
        assert wave.ndim == 1 and wave.dtype.name == "float32"
        assert 0.3 * small.sample_rate < len(wave) < 6 * small.sample_rate
        assert 0.01 < float((wave**2).mean() ** 0.5) < 0.9


def test_same_options_give_bit_identical_audio_even_after_other_synthesis(small, tmp_path):
    # espeak-ng keeps synthesis state between calls; generation must not depend on it.
    espeak().synthesise("Something else first.", "en+m2", Prosody(70, 80, 200, 120))
    again = create("synthetic:speakers=4,sentences=3,seed=1", tmp_path)
    assert again.fingerprint() == small.fingerprint()
    assert audio_digest(again) == audio_digest(small)


def test_another_seed_changes_the_prosody(small, tmp_path):
    other = create("synthetic:speakers=4,sentences=3,seed=2", tmp_path)
    assert other.fingerprint() != small.fingerprint()
    assert audio_digest(other) != audio_digest(small)


def test_second_request_reuses_the_cached_corpus(small, tmp_path):
    root = small.directory.parent.parent
    before = sorted(p.name for p in (root / "corpora").iterdir())
    create("synthetic:speakers=4,sentences=3,seed=1", root)
    assert sorted(p.name for p in (root / "corpora").iterdir()) == before


def test_default_corpus_meets_the_minimum_size():
    from trustser.corpora.synthetic import DEFAULTS, SENTENCES, corpus_plan

    plan = corpus_plan(**DEFAULTS)
    assert DEFAULTS["speakers"] >= 8 and DEFAULTS["sentences"] >= 20 and len(SENTENCES) >= 20
    assert len({s.utterance.sentence for s in plan}) >= 20
    assert len({s.voice for s in plan}) == DEFAULTS["speakers"]
    prosodies = {(s.utterance.emotion, s.prosody) for s in plan}
    assert len(prosodies) > 0.9 * len(plan), "every utterance should get its own prosody variation"


def test_folds_are_speaker_independent_and_gender_balanced(small):
    folds = speaker_folds(small.utterances, 2, seed=0)
    check_speaker_independence(folds)
    genders = {u.speaker: u.gender for u in small.utterances}
    for fold in folds:
        assert sorted(genders[s] for s in fold.test_speakers) == ["female", "male"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("synthetic:speaker=4", "unknown corpus option 'speaker=4'"),
        ("synthetic:speakers=x", "must be an integer"),
        ("synthetic:speakers=3", "even number of speakers"),
        ("synthetic:sentences=99", "1 to"),
        ("nosuchcorpus", "unknown corpus 'nosuchcorpus'"),
    ],
)
def test_bad_specs_name_the_problem(spec, message, tmp_path):
    with pytest.raises(SpecError, match=message):
        create(spec, tmp_path)
