"""A planted-flaw world for the trust tests: a corpus of tones whose every property is known.

Loaded into an audit with `-p tests.planted.tones`; it registers the corpus `tones`, which users'
audits never see. Each utterance is a carrier tone of random pitch (independent of everything) plus
an emotion tone whose frequency names the emotion. Options plant one flaw each:

- `emotion_db`: level of the emotion tone relative to the carrier. At -50 dB (with `noise_db=-70`, so
  that it can still be learned) the only emotion cue is quieter than a 45 dB adversarial budget: a
  model with a deliberately tiny input margin.
- `noise_db`: level of the white noise floor relative to the carrier (default -20 dB).
- `level_cue=1`: the emotion tone is left out and the emotion sets the loudness instead (2 dB apart):
  a model that reads emotion from absolute level, which a ±3 dB gain change alters.
- `gender_cue=1`: adds a tone whose frequency names the gender: representations that leak gender.
- `speaker_cue=1`: adds a tone whose frequency names the speaker: a voiceprint in every utterance.
- `voiceprint=1`: adds a chord of three tones drawn per speaker between 3.8 and 7.6 kHz: a voiceprint
  a cosine-scoring verifier picks up (speaker_cue's single high tone is too faint for one, though not
  for the informed verifiers; its top speakers' tones sit at or beyond Nyquist).
- `age_cue=1`, `accent_cue=1`: add a tone whose frequency names the speaker's age group or accent.
- `distinct=1`: every utterance adds its own chord of six random tones (what it says, in this world),
  louder than the emotion tone: the head learns its training utterances by heart rather than the
  emotion alone, and gives lower losses on them than on unseen ones (a memorising head).
- `biased=1`: female speakers' happy utterances are labelled sad: biased labels for one gender.
- `shuffled=1`: labels are permuted: a model that cannot recognise emotions.
- `mislabelled=P`: the first P% of each speaker's takes of each emotion are labelled as another emotion
  (each of the three in turn): a model that reads the tone is right on 100 − P% of them, and a calibrated
  one says so (posterior 1 − P / 100 on the emotion it hears).
- `emotion_shift=K`: each emotion is rendered with the tone of the emotion K places further in EMOTIONS:
  a corpus that expresses its emotions otherwise, where heads trained on the default do not transfer.

Every speaker has an age (young: 30s, old: 50s) and an accent ("north", "south") in
`Utterance.demographics`, assigned so that gender, age group and accent are independent, and
neither is monotone in the speaker number (speaker_cue's frequencies rise with it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from trustser.corpora.base import EMOTIONS, Corpus, Utterance
from trustser.corpora.registry import parse_options, register

SAMPLE_RATE = 16000
EMOTION_HZ = {"neutral": 1000.0, "happy": 1600.0, "sad": 2400.0, "angry": 3400.0}
GENDER_HZ = {"female": 5000.0, "male": 6000.0}
AGE_GROUP_HZ = {"young": 4200.0, "old": 4600.0}
ACCENT_HZ = {"north": 550.0, "south": 750.0}
EMOTION_LEVEL_DB = {"sad": -3.0, "neutral": -1.0, "happy": 1.0, "angry": 3.0}
DEFAULTS = {
    "speakers": 8,
    "per_emotion": 10,
    "emotion_db": 0,
    "noise_db": -20,
    "level_cue": 0,
    "gender_cue": 0,
    "speaker_cue": 0,
    "biased": 0,
    "shuffled": 0,
    "seed": 0,
    "voiceprint": 0,
    "age_cue": 0,
    "accent_cue": 0,
    "distinct": 0,
    "emotion_shift": 0,
    "mislabelled": 0,
}
OLD_FROM = 45  # years: the age group boundary of the tones speakers


def speaker_age(number: int) -> int:
    """Thue-Morse parity of the speaker number picks the group: balanced against gender (number % 2)."""
    old = bin(number).count("1") % 2
    return (52 if old else 31) + number % 5


def speaker_accent(number: int) -> str:
    return "south" if ((number >> 1) ^ (number >> 2)) & 1 else "north"


def voiceprint_hz(speaker: str) -> np.ndarray:
    """Three frequencies per speaker between 3.8 and 7.6 kHz, fixed by the speaker's number."""
    return np.random.default_rng(1000 + int(speaker.removeprefix("tone"))).uniform(3800.0, 7600.0, 3)


def speaker_hz(speaker: str) -> float:
    """The speaker cue: one frequency per speaker, 250 Hz apart above the gender cues."""
    return 6500.0 + 250.0 * int(speaker.removeprefix("tone"))


class ToneCorpus(Corpus):
    name = "tones"
    sample_rate = SAMPLE_RATE

    def __init__(self, options: dict[str, int]):
        self.options = options
        rng = np.random.default_rng(options["seed"])
        utterances, self.rendered = [], {}
        for number in range(options["speakers"]):
            speaker, gender = f"tone{number:02d}", ("female" if number % 2 == 0 else "male")
            for emotion in EMOTIONS:
                for take in range(options["per_emotion"]):
                    label = "sad" if options["biased"] and gender == "female" and emotion == "happy" else emotion
                    if take < options["mislabelled"] * options["per_emotion"] // 100:
                        label = EMOTIONS[(EMOTIONS.index(label) + 1 + (number + take) % 3) % len(EMOTIONS)]
                    utterance = Utterance(
                        f"{speaker}_{emotion}_{take:02d}",
                        speaker,
                        gender,
                        label,
                        "",
                        age=speaker_age(number),
                        demographics=(("accent", speaker_accent(number)),),
                    )
                    utterances.append(utterance)
                    rendered = EMOTIONS[(EMOTIONS.index(emotion) + options["emotion_shift"]) % len(EMOTIONS)]
                    self.rendered[utterance.id] = (rendered, int(rng.integers(2**31)))
        if options["shuffled"]:
            labels = [u.emotion for u in utterances]
            rng.shuffle(labels)
            utterances = [replace(u, emotion=e) for u, e in zip(utterances, labels)]
        super().__init__(utterances)

    def load_audio(self, utterance_id: str) -> np.ndarray:
        emotion, seed = self.rendered[utterance_id]
        rng = np.random.default_rng(seed)
        t = np.arange(int(0.5 * SAMPLE_RATE)) / SAMPLE_RATE
        wave = 0.1 * np.sin(2 * np.pi * rng.uniform(100, 300) * t + rng.uniform(0, 2 * np.pi))
        level = 0.1 * 10 ** (self.options["emotion_db"] / 20)
        if self.options["level_cue"]:
            wave *= 10 ** (EMOTION_LEVEL_DB[emotion] / 20)
        else:
            wave += level * np.sin(2 * np.pi * EMOTION_HZ[emotion] * t + rng.uniform(0, 2 * np.pi))
        # Every recording has a noise floor; without one, the empty mel bands of pure tones sit at
        # log(1e-10), where a perturbation far below any audible level moves them by tens of dB.
        wave += 0.1 * 10 ** (self.options["noise_db"] / 20) * rng.standard_normal(len(t))
        if self.options["gender_cue"]:
            wave += 0.05 * np.sin(2 * np.pi * GENDER_HZ[self._by_id[utterance_id].gender] * t)
        if self.options["speaker_cue"]:
            wave += 0.05 * np.sin(2 * np.pi * speaker_hz(self._by_id[utterance_id].speaker) * t)
        if self.options["voiceprint"]:
            for hz in voiceprint_hz(self._by_id[utterance_id].speaker):
                wave += 0.05 * np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi))
        if self.options["distinct"]:
            for hz in rng.uniform(400.0, 7600.0, 6):
                wave += 0.2 * np.sin(2 * np.pi * hz * t)
        if self.options["age_cue"]:
            age = self._by_id[utterance_id].age
            wave += 0.05 * np.sin(2 * np.pi * AGE_GROUP_HZ["old" if age >= OLD_FROM else "young"] * t)
        if self.options["accent_cue"]:
            wave += 0.05 * np.sin(2 * np.pi * ACCENT_HZ[dict(self._by_id[utterance_id].demographics)["accent"]] * t)
        return wave.astype(np.float32)

    def audio_fingerprint(self) -> str:
        return f"tones-v2-{sorted(self.options.items())}"


@register("tones", checked_as=["tones:speakers=4,per_emotion=2"])
def tone_corpus(argument, cache_root) -> ToneCorpus:
    return ToneCorpus(parse_options(argument, DEFAULTS))
