"""`check_corpus` passes a sound corpus and stops each broken one at the rule it breaks, naming both."""

import dataclasses

import numpy as np
import pytest

from trustser.corpora import EMOTIONS, Corpus, Dropped, Fold, Utterance
from trustser.corpora.attributes import Scale
from trustser.testing import CORPUS_RULES, check_corpus, corpus_checks

RATE = 16000
SPEAKERS = [(f"spk{n}", "female" if n % 2 else "male") for n in range(8)]
EVERY_EMOTION_OF_EVERY_SPEAKER = [
    Utterance(f"{speaker}_{emotion}", speaker, gender, emotion) for speaker, gender in SPEAKERS for emotion in EMOTIONS
]


class Tones(Corpus):
    """Sound: eight speakers, one tenth of a second of tone per emotion each; the variants below break it."""

    name = "tones"
    sample_rate = RATE

    def __init__(self, utterances=None):
        super().__init__(EVERY_EMOTION_OF_EVERY_SPEAKER if utterances is None else utterances)
        self.loaded = []

    def load_audio(self, utterance_id):
        self.loaded.append(utterance_id)
        return (0.1 * np.sin(np.arange(RATE // 10) / 7)).astype(np.float32)

    def audio_fingerprint(self):
        return "tones"


def changed(corpus: Tones, index: int, **fields) -> Tones:
    """`corpus` with utterance `index` given other `fields`."""
    utterances = list(corpus.utterances)
    utterances[index] = dataclasses.replace(utterances[index], **fields)
    return type(corpus)(utterances)


class OneEmotion(Tones):
    emotions = ("neutral",)


class Stereo(Tones):
    def load_audio(self, utterance_id):
        return np.stack([super().load_audio(utterance_id)] * 2)


class NaNSample(Tones):
    def load_audio(self, utterance_id):
        wave = super().load_audio(utterance_id)
        wave[5] = np.nan
        return wave


class Silent(Tones):
    def load_audio(self, utterance_id):
        return np.zeros(RATE, np.float32)


class WrongDuration(Tones):
    def seconds(self, utterance_id):
        return 0.2  # the audio is 0.1 s long


class RandomAudioIdentity(Tones):
    def audio_fingerprint(self):
        return str(np.random.default_rng().integers(1 << 30))


class LeakyFolds(Tones):
    def folds(self, k, seed=0):
        folds = super().folds(k, seed)
        leaked = folds[0].test_speakers[0]
        return [dataclasses.replace(folds[0], train_speakers=folds[0].train_speakers + (leaked,)), *folds[1:]]


class UnseededFolds(Tones):
    def folds(self, k, seed=0):
        return super().folds(k, int(np.random.default_rng().integers(1 << 30)))


class SpeakerNeverTested(Tones):
    def folds(self, k, seed=0):
        folds = super().folds(k, seed)
        dropped = folds[0].test_speakers[0]
        return [
            dataclasses.replace(
                folds[0], test_speakers=folds[0].test_speakers[1:], train_speakers=folds[0].train_speakers + (dropped,)
            ),
            *folds[1:],
        ]


class FewerFoldsThanPromised(Tones):
    def folds(self, k, seed=0):
        return super().folds(k - 1, seed)  # yet fold_scheme(k) still says k-fold


class GenderSortedFolds(Tones):
    def folds(self, k, seed=0):
        by_gender = sorted(SPEAKERS, key=lambda pair: pair[1])  # the females fill the first folds
        tests = [tuple(s for s, _ in by_gender[2 * i : 2 * i + 2]) for i in range(k)]
        everyone = {s for s, _ in SPEAKERS}
        return [Fold(i, tuple(sorted(everyone - set(test))), (), test) for i, test in enumerate(tests)]


class TrainsOnTheTestPartition(Tones):
    """Official partitions: spk0-5 train, spk6 Test1, spk7 Test2; but Test1's fold also trains on spk7."""

    def __init__(self, utterances=None):
        super().__init__(utterances)
        split = {"spk6": "Test1", "spk7": "Test2"}
        self.utterances = [dataclasses.replace(u, split=split.get(u.speaker, "Train")) for u in self.utterances]

    def folds(self, k, seed=0):
        train = tuple(f"spk{n}" for n in range(6))
        return [Fold(0, train + ("spk7",), (), ("spk6",)), Fold(1, train, (), ("spk7",))]


class RatedWithoutScale(Tones):
    """Attributes with no `attribute_scale` to read them on."""


class RatedOnOneToFive(Tones):
    attribute_scale = Scale(1.0, 5.0)


class DropsWithoutReason(Tones):
    dropped = (Dropped("clip_7.wav", ""),)


BROKEN = [  # corpus, the first rule it breaks, a phrase of the message
    (OneEmotion(), "declared_attributes", "emotions must be a sequence of at least two distinct names"),
    (Tones([]), "has_utterances", "it has no utterances"),
    (changed(Tones(), 1, speaker=""), "has_utterances", "every utterance needs a non-empty id and speaker"),
    (
        changed(Tones(), 1, id="spk0_neutral"),
        "unique_ids",
        "1 utterance id(s) occur more than once, e.g. ['spk0_neutral']",
    ),
    (changed(Tones(), 1, emotion="bored"), "emotions_in_label_set", "'spk0_happy': 'bored'"),
    (changed(Tones(), 1, gender="unknown"), "recognised_genders", "gender outside ('female', 'male')"),
    (
        changed(Tones(), 1, gender="female"),
        "recognised_genders",
        "speaker(s) ['spk0'] have utterances of more than one gender",
    ),
    (changed(RatedWithoutScale(), 1, attributes=(("arousal", 3.0),)), "attributes_on_scale", "not a Scale"),
    (
        changed(RatedOnOneToFive(), 1, attributes=(("arousal", 6.0),)),
        "attributes_on_scale",
        "'spk0_happy': attributes {'arousal': 6.0} outside the 1-5 scale",
    ),
    (
        changed(RatedOnOneToFive(), 1, attributes=(("valence", 3.0), ("arousal", 3.0))),
        "attributes_on_scale",
        "in that order, got ['valence', 'arousal']",
    ),
    (RandomAudioIdentity(), "stable_fingerprint", "fingerprint() changed between two calls"),
    (Stereo(), "audio_loads", "must return a mono float32 numpy array, got float32 of shape (2, 1600)"),
    (NaNSample(), "audio_loads", "has NaN or infinite samples"),
    (Silent(), "audio_loads", "neither digital silence"),
    (
        WrongDuration(),
        "audio_loads",
        "0.2000 s = 3200.0 samples at the declared 16000 Hz, but load_audio('spk0_neutral') gave 1600",
    ),
    (UnseededFolds(), "reproducible_folds", "gave other folds on a second call"),
    (LeakyFolds(), "speaker_independent_folds", "fold 0: speakers"),
    (SpeakerNeverTested(), "folds_cover_the_corpus", "are never tested"),
    (FewerFoldsThanPromised(), "folds_cover_the_corpus", "the scheme promises 4 folds, there are 3"),
    (GenderSortedFolds(), "folds_cover_the_corpus", "female test speakers per fold are [2, 2, 0, 0]: not balanced"),
    (TrainsOnTheTestPartition(), "folds_cover_the_corpus", "speakers ['spk7'] of an official test partition"),
    (DropsWithoutReason(), "dropped_items_say_why", "a dropped item needs a non-empty item and reason"),
]


def test_a_sound_corpus_passes_every_rule():
    check_corpus(Tones())
    assert [rule for rule, _ in corpus_checks(Tones())] == list(CORPUS_RULES)


@pytest.mark.parametrize("corpus, rule, phrase", BROKEN, ids=[f"{type(c).__name__}-{r}" for c, r, _ in BROKEN])
def test_a_broken_corpus_fails_at_its_rule_with_both_named(corpus, rule, phrase):
    with pytest.raises(AssertionError) as raised:
        check_corpus(corpus)
    message = str(raised.value)
    assert message.startswith(f"corpus 'tones' ({type(corpus).__name__}) breaks the rule {rule!r}: ")
    assert phrase in message


def test_every_rule_is_shown_to_catch_a_broken_corpus():
    assert {rule for _, rule, _ in BROKEN} == set(CORPUS_RULES)


def test_official_partitions_are_held_to_their_own_promise():
    class Partitioned(TrainsOnTheTestPartition):
        def folds(self, k, seed=0):
            train = tuple(f"spk{n}" for n in range(5))
            return [Fold(0, train, ("spk5",), ("spk6",)), Fold(1, train, ("spk5",), ("spk7",))]

    check_corpus(Partitioned())  # not every speaker is tested, as official partitions intend


def test_load_at_most_spreads_the_audio_it_loads_over_the_corpus():
    corpus = Tones()
    dict(corpus_checks(corpus, load_at_most=3))["audio_loads"]()
    assert list(dict.fromkeys(corpus.loaded)) == ["spk0_neutral", "spk4_neutral", "spk7_angry"]
