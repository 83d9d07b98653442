"""libespeak-ng from the `espeakng-loader` wheel, driven through ctypes (no system package needed).

Only what the synthetic corpus needs: pick a voice variant, set prosody parameters, synthesise text
to 16-bit PCM. The library keeps global state, so one `Espeak` per process; synthesis is
synchronous. It is deterministic only as a whole session: see `synthesise_in_fresh_process`.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly
from tqdm.auto import tqdm

from trustser.cache.store import private_open
from trustser.compute.children import dies_with_this_process
from trustser.specs.team_code import child_environment

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAMETERS = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Prosody:
    """espeak-ng's own units: pitch and range 0-100 (default 50), rate in words/min, volume in %."""

    pitch: int
    range: int
    rate: int
    volume: int


class Espeak:
    def __init__(self) -> None:
        import espeakng_loader

        self.library = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        self.library.espeak_Initialize.restype = ctypes.c_int
        self.library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.library.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed (data path {data_path.decode()})")
        # Initialisation seeds espeak-ng's random generator from the clock; breathy voice
        # variants draw their noise from it. A fixed seed makes their audio reproducible.
        self.library.espeak_ng_SetRandSeed(ctypes.c_long(0))
        self._chunks: list[np.ndarray] = []
        self._callback = _SynthCallback(self._collect)  # kept referenced: C holds only the pointer
        self.library.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def synthesise(self, text: str, voice: str, prosody: Prosody) -> np.ndarray:
        """Float32 waveform in [-1, 1] at `sample_rate`."""
        if self.library.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        for name, parameter in _PARAMETERS.items():
            self.library.espeak_SetParameter(parameter, int(getattr(prosody, name)), 0)
        self._chunks = []
        encoded = text.encode("utf-8") + b"\0"
        status = self.library.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status} on {text!r}")
        self.library.espeak_Synchronize()
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


@lru_cache(maxsize=1)
def espeak() -> Espeak:
    return Espeak()


def synthesise_jobs(jobs: list[dict], directory: Path, sample_rate: int) -> None:
    """Synthesise each job ({id, text, voice, prosody}) in order to `directory/<id>.wav` (float)."""
    engine = espeak()
    divisor = np.gcd(engine.sample_rate, sample_rate)
    for job in tqdm(jobs, desc="synthesising speech with espeak-ng", unit="utt", leave=False):
        wave = engine.synthesise(job["text"], job["voice"], Prosody(**job["prosody"]))
        wave = resample_poly(wave, sample_rate // divisor, engine.sample_rate // divisor).astype(np.float32)
        with private_open(directory / f"{job['id']}.wav") as handle:  # 0600: a synthetic speaker's voice
            soundfile.write(handle, wave, sample_rate, subtype="FLOAT", format="WAV")


def synthesise_in_fresh_process(jobs: list[dict], directory: Path, sample_rate: int) -> None:
    """`synthesise_jobs` in a new interpreter, so no earlier synthesis in this process changes the audio."""
    jobs_file = directory / "jobs.json"
    with private_open(jobs_file, "w") as handle:
        json.dump(jobs, handle)
    command = [sys.executable, "-m", "trustser.corpora.espeak", str(jobs_file), str(directory), str(sample_rate)]
    completed = subprocess.run(  # the same trustser as this process, ending with it
        command, env=child_environment(), preexec_fn=dies_with_this_process()
    )
    jobs_file.unlink()
    if completed.returncode != 0:
        raise RuntimeError(f"espeak-ng synthesis into {directory} failed (exit code {completed.returncode})")


def espeak_version() -> str:
    from importlib.metadata import version

    return f"espeakng-loader {version('espeakng-loader')}"


if __name__ == "__main__":
    jobs_path, out_dir, rate = sys.argv[1:4]
    synthesise_jobs(json.loads(Path(jobs_path).read_text()), Path(out_dir), int(rate))
