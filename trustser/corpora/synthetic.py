"""The built-in synthetic emotional speech corpus: espeak-ng voices, emotions rendered by prosody.

Every speaker (a female or male espeak-ng voice variant with its own pitch, rate and loudness habit)
says every sentence in each of the four emotions. An emotion is a prosody profile (pitch level and
range, speaking rate, volume); every utterance draws its own random deviation from the profile, so
classes overlap as in acted corpora. It is a test bed with known ground truth, not a stand-in for
real emotional speech.

Attributes: every utterance also carries planted arousal, valence and dominance on a 1-7 scale (the
MSP-Podcast convention), functions of the prosody it was rendered with (`planted_attributes`), so
a dimensional audit has a corpus whose right answer is known and audible.

Determinism: espeak-ng keeps synthesis state in C statics (e.g. its pitch-flutter phase) that no
API call resets, so one utterance's samples depend on what was synthesised before it in the same
process. The corpus is therefore always synthesised in a fresh interpreter, in a fixed order: same
options -> bit-identical audio. It is generated once into the cache (temporary directory, then an
atomic rename, under a file lock), 16 kHz mono float WAV plus `metadata.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile

from trustser.cache.store import content_key, private_lock, private_mkdir, private_open, staging_prefix, writes_to
from trustser.corpora.attributes import Scale, ordered
from trustser.corpora.base import EMOTIONS, Corpus, Utterance
from trustser.corpora.espeak import Prosody, espeak_version, synthesise_in_fresh_process
from trustser.corpora.registry import parse_options, register

SYNTHESIS_VERSION = "2"  # bump when anything below changes the audio or metadata
SAMPLE_RATE = 16000
DEFAULTS = {"speakers": 8, "sentences": 20, "seed": 0, "voice_shift": 0, "emotion_shift": 0}
# voice_shift=K: the speakers take the voice variants K places further along (other voices, for a
# cross-corpus test corpus); emotion_shift=K: each emotion is rendered with the prosody of the emotion K
# places further in EMOTIONS (speakers who act emotions differently, the planted cross-corpus failure).
# Both 0 by default, which leaves the plan, and so the cached corpus, as it was.

SENTENCES = (
    "It's eleven o'clock.",
    "That is exactly what happened.",
    "I'm on my way to the meeting.",
    "I wonder what this is about.",
    "The airplane is almost full.",
    "Maybe tomorrow it will be cold.",
    "I would like a new alarm clock.",
    "I think I have a doctor's appointment.",
    "Don't forget a jacket.",
    "I think I've seen this before.",
    "The surface is slick.",
    "We'll stop in a couple of minutes.",
    "Kids are talking by the door.",
    "Dogs are sitting by the door.",
    "The paper is on the kitchen table.",
    "She put the letter in the blue box.",
    "They moved the meeting to Thursday.",
    "The train leaves at seven tonight.",
    "He left his keys in the car.",
    "We have to finish this by Friday.",
    "The window in the hall was open.",
    "My sister works at the library.",
    "The music started after the speech.",
    "Please bring the chairs inside.",
)
FEMALE_VOICES = ("f1", "f2", "f3", "f4", "f5")
MALE_VOICES = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8")

# Mean prosody of each emotion, in espeak-ng units (neutral = the engine's defaults, roughly).
EMOTION_PROSODY = {
    "neutral": Prosody(pitch=50, range=40, rate=165, volume=100),
    "happy": Prosody(pitch=68, range=85, rate=180, volume=115),
    "sad": Prosody(pitch=38, range=15, rate=135, volume=80),
    "angry": Prosody(pitch=55, range=55, rate=205, volume=145),
}
# Standard deviation of each utterance's deviation from its emotion's mean: the class overlap.
UTTERANCE_JITTER = Prosody(pitch=5, range=8, rate=10, volume=9)
# Standard deviation of a speaker's habitual offset (some speak higher, faster or louder).
SPEAKER_HABIT = Prosody(pitch=6, range=6, rate=12, volume=8)
_LIMITS = {"pitch": (0, 100), "range": (0, 100), "rate": (80, 450), "volume": (10, 200)}


ATTRIBUTE_SCALE = Scale(1.0, 7.0)
# Each prosody parameter's span between the quietest, slowest, flattest emotion profile (sad) and the most
# extreme one: a parameter at the low end of its span reads 0, at the high end 1.
_SPAN = {"rate": (135, 205), "volume": (80, 145), "range": (15, 85), "pitch": (38, 68)}


def _unit(prosody: dict, name: str) -> float:
    low, high = _SPAN[name]
    return (prosody[name] - low) / (high - low)


def planted_attributes(prosody: dict) -> dict[str, float]:
    """The utterance's planted attributes on the 1-7 scale, from the prosody it was rendered with.

    With r, v, g, p the rate, volume, pitch range and pitch level, each mapped to its span `_SPAN` (0 at the
    low end, 1 at the high end), each attribute's unit value u is clipped to [0, 1] and rated 1 + 6u:
    arousal u = (r + v + g) / 3 (faster, louder, livelier speech is more aroused); valence u = 0.5 +
    (p - v) / 2 (a higher voice reads as pleasant, a louder one as not: happy highest, angry lowest);
    dominance u = (2 v + (1 - p)) / 3 (a loud, low voice dominates: angry highest). Rounded to 0.01.
    Each utterance's own jitter and its speaker's habit move them, so they vary within an emotion.
    """
    r, v, g, p = (_unit(prosody, name) for name in ("rate", "volume", "range", "pitch"))
    units = {"arousal": (r + v + g) / 3, "valence": 0.5 + (p - v) / 2, "dominance": (2 * v + (1 - p)) / 3}
    return {name: round(float(ATTRIBUTE_SCALE.in_units(np.clip(u, 0, 1))), 2) for name, u in units.items()}


@dataclass(frozen=True)
class UtteranceSpec:
    utterance: Utterance
    voice: str
    prosody: Prosody


def _clipped(values: dict[str, float]) -> Prosody:
    return Prosody(**{k: int(np.clip(round(v), *_LIMITS[k])) for k, v in values.items()})


def corpus_plan(
    speakers: int, sentences: int, seed: int, voice_shift: int = 0, emotion_shift: int = 0
) -> list[UtteranceSpec]:
    """Who says what, how: fully determined by the options."""
    if speakers < 2 or speakers % 2:
        raise ValueError(f"synthetic corpus needs an even number of speakers >= 2, got {speakers}")
    if not 1 <= sentences <= len(SENTENCES):
        raise ValueError(f"synthetic corpus has 1 to {len(SENTENCES)} sentences, got {sentences}")
    rng = np.random.default_rng(seed)
    fields = tuple(asdict(SPEAKER_HABIT))
    plan = []
    for number in range(speakers):
        gender = "female" if number % 2 == 0 else "male"
        variants = FEMALE_VOICES if gender == "female" else MALE_VOICES
        voice = f"en+{variants[(number // 2 + voice_shift) % len(variants)]}"
        habit = {k: rng.normal(0, getattr(SPEAKER_HABIT, k)) for k in fields}
        speaker = f"spk{number + 1:02d}"
        for sentence_index in range(sentences):
            for emotion in EMOTIONS:
                mean = EMOTION_PROSODY[EMOTIONS[(EMOTIONS.index(emotion) + emotion_shift) % len(EMOTIONS)]]
                values = {k: getattr(mean, k) + habit[k] + rng.normal(0, getattr(UTTERANCE_JITTER, k)) for k in fields}
                utterance = Utterance(
                    id=f"{speaker}_s{sentence_index + 1:02d}_{emotion}",
                    speaker=speaker,
                    gender=gender,
                    emotion=emotion,
                    sentence=SENTENCES[sentence_index],
                )
                plan.append(UtteranceSpec(utterance, voice, _clipped(values)))
    return plan


def _planned(utterance: Utterance) -> dict:
    """The utterance as planned and stored: without attributes, which follow from its prosody at load, so
    the plan's key (and the cached audio) are what they were before utterances carried attributes."""
    return {k: v for k, v in asdict(utterance).items() if k != "attributes"}


def generate(plan: list[UtteranceSpec], target: Path) -> None:
    """Synthesise `plan` into `target` atomically (nothing partial is ever left at `target`)."""
    with writes_to(target):
        private_mkdir(target.parent)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=staging_prefix(target.name)))  # 0700
    try:
        jobs = [
            {"id": s.utterance.id, "text": s.utterance.sentence, "voice": s.voice, "prosody": asdict(s.prosody)}
            for s in plan
        ]
        synthesise_in_fresh_process(jobs, staging, SAMPLE_RATE)
        metadata = [dict(_planned(spec.utterance), voice=spec.voice, prosody=asdict(spec.prosody)) for spec in plan]
        with writes_to(target):
            with private_open(staging / "metadata.json", "w") as handle:
                handle.write(json.dumps(metadata, indent=1))
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class SyntheticCorpus(Corpus):
    name = "synthetic"
    sample_rate = SAMPLE_RATE
    attribute_scale = ATTRIBUTE_SCALE

    def __init__(self, directory: Path, key: str):
        records = json.loads((directory / "metadata.json").read_text())
        fields = Utterance.__dataclass_fields__
        super().__init__(
            [
                # the attributes follow from the stored prosody: the audio and its cache stay as they were
                Utterance(
                    **{k: v for k, v in r.items() if k in fields and k != "attributes"},
                    attributes=ordered(planted_attributes(r["prosody"])),
                )
                for r in records
            ]
        )
        self.directory = directory
        self.key = key

    def load_audio(self, utterance_id: str) -> np.ndarray:
        wave, rate = soundfile.read(self.directory / f"{utterance_id}.wav", dtype="float32")
        assert rate == self.sample_rate, f"{utterance_id}.wav is {rate} Hz, expected {self.sample_rate}"
        return wave

    def seconds(self, utterance_id: str) -> float:
        return soundfile.info(self.directory / f"{utterance_id}.wav").duration  # header only, no decoding

    def audio_fingerprint(self) -> str:
        return self.key


@register("synthetic", checked_as=["synthetic:speakers=4,sentences=2"])
def synthetic_corpus(argument: str | None, cache_root: Path) -> SyntheticCorpus:
    options = parse_options(argument, DEFAULTS)
    plan = corpus_plan(**options)
    plan_digest = content_key(plan=[(_planned(s.utterance), s.voice, asdict(s.prosody)) for s in plan])
    key = content_key(step="synthetic-corpus", version=SYNTHESIS_VERSION, engine=espeak_version(), plan=plan_digest)
    directory = Path(cache_root) / "corpora" / f"synthetic-{key}"
    with writes_to(directory.parent):
        private_mkdir(directory.parent)
    with private_lock(Path(str(directory) + ".lock")):
        if not (directory / "metadata.json").exists():
            generate(plan, directory)
    return SyntheticCorpus(directory, key)
