"""Hugging Face encoders on tiny random checkpoints, loaded through the registry as users load real ones.

Tolerances (float32, measured on these checkpoints):
- batched vs one-at-a-time: max |difference| <= 1e-5 x max |single| (measured <= 2e-6; Whisper is
  bit-identical since every utterance is padded to the same 30 s window anyway);
- vs the Hugging Face reference pipeline (feature extractor + `output_hidden_states`) for one
  utterance: <= 1e-4 x max |reference| (measured ~1e-6);
- `WhisperLogMel` vs `WhisperFeatureExtractor._np_extract_fbank_features`: <= 1e-4 absolute on its
  (x + 4) / 4 scale, where values span about [-1, 2] (measured ~2e-6);
- per-utterance normalisation vs `Wav2Vec2FeatureExtractor`: <= 1e-5 absolute (measured ~5e-7).
"""

import time

import numpy as np
import pytest
import torch

from tests.encoders.tiny_checkpoints import EMOTIONS, tiny_checkpoints  # noqa: F401 (fixture)
from trustser.encoders import available, create
from trustser.encoders.base import frame_mask, pad_waveforms

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")

SR = 16000
FAMILIES = ["wav2vec2_group", "wav2vec2_layer", "hubert", "wavlm", "data2vec_audio", "whisper"]
DURATIONS = [1.0, 0.37, 0.6133]  # seconds; not multiples of any hop


def voiced(seconds: float, f0: float, seed: int) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    return (0.03 * tone + 0.003 * np.random.default_rng(seed).standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def batch():
    return pad_waveforms(torch.from_numpy(voiced(s, 110 + 40 * i, i)) for i, s in enumerate(DURATIONS))


@pytest.fixture(scope="module")
def encoders(tiny_checkpoints):
    return {name: create(f"hf:{tiny_checkpoints[name]}") for name in FAMILIES}


@pytest.fixture(params=FAMILIES)
def encoder(request, encoders):
    return encoders[request.param]


def expected_frames(encoder, lengths: torch.Tensor) -> list[int]:
    if encoder.model_type == "whisper":
        return [-(-n // 320) for n in lengths.tolist()]  # ceil(samples / 320)
    frames = lengths
    for kernel, stride in zip((10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)):
        frames = (frames - kernel) // stride + 1
    return frames.tolist()


def test_registry_knows_hf_names():
    assert {"hf", "wav2vec2_0", "wavlm", "hubert", "whisper_tiny", "whisper_base", "whisper_small"} <= set(available())


def test_short_names_resolve_to_ids_without_loading(monkeypatch):
    import trustser.encoders.huggingface as hf

    class Loaded(tuple):  # what was asked for, standing in for the encoder (registrations add `trained_on`)
        trained_on = ()

    monkeypatch.setattr(hf, "load_hf_encoder", lambda source, name=None, window="full": Loaded((source, name, window)))
    assert create("wav2vec2_0") == ("facebook/wav2vec2-base", "wav2vec2_0", "full")
    assert create("wavlm") == ("microsoft/wavlm-base-plus", "wavlm", "full")
    assert create("hubert") == ("facebook/hubert-base-ls960", "hubert", "full")
    assert [create(f"whisper_{size}")[0] for size in ("tiny", "base", "small")] == [
        "openai/whisper-tiny",
        "openai/whisper-base",
        "openai/whisper-small",
    ]
    assert create("wavlm:/models/wavlm") == ("/models/wavlm", "wavlm", "full")
    assert create("whisper_base:window=trimmed") == ("openai/whisper-base", "whisper_base:window=trimmed", "trimmed")
    assert create("whisper_small:/models/w,window=trimmed") == ("/models/w", "whisper_small:window=trimmed", "trimmed")


@pytest.mark.parametrize("spec", ["hf:trustser-tests/no-such-model", "hf:/no/such/model/dir", "whisper_small"])
def test_missing_model_fails_fast_and_says_how_to_get_it(spec, monkeypatch, tmp_path):
    from trustser.encoders.hf_loading import ModelNotAvailable

    monkeypatch.delenv("TRUSTSER_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing is available
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(ModelNotAvailable) as raised:
        create(spec)
    assert time.monotonic() - start < 10
    assert isinstance(raised.value, FileNotFoundError)
    if spec.startswith("hf:/"):
        assert "config.json" in str(raised.value)
    else:
        model_id = spec.partition(":")[2] or "openai/whisper-small"
        assert f"huggingface-cli download {model_id}" in str(raised.value)
        assert "TRUSTSER_ALLOW_DOWNLOAD=1" in str(raised.value)


def test_shapes_layers_and_zero_padding(encoder, batch):
    waves, lengths = batch
    with torch.no_grad():
        layers, frame_lengths = encoder(waves, lengths)
    assert encoder.num_layers == 3 and encoder.hidden_size == 32  # 2 transformer layers + their input
    assert layers.shape == (len(DURATIONS), 3, int(frame_lengths.max()), 32)
    assert frame_lengths.tolist() == expected_frames(encoder, lengths)
    padding = ~frame_mask(frame_lengths, layers.shape[2])
    assert torch.isfinite(layers).all() and not layers.permute(0, 2, 1, 3)[padding].any()


def test_batched_equals_one_at_a_time(encoder, batch):
    waves, lengths = batch
    with torch.no_grad():
        layers, frame_lengths = encoder(waves, lengths)
        for row, length in enumerate(lengths.tolist()):
            alone, alone_frames = encoder(waves[row : row + 1, :length], lengths[row : row + 1])
            assert alone_frames.item() == frame_lengths[row].item()
            assert (layers[row, :, : alone.shape[2]] - alone[0]).abs().max() <= 1e-5 * alone.abs().max()


def test_gradient_reaches_waveform_and_padding_is_inert(encoder, batch):
    waves, lengths = batch
    padding = torch.arange(waves.shape[1])[None, :] >= lengths[:, None]
    noisy = torch.where(padding, torch.randn_like(waves), waves).requires_grad_(True)
    layers, _ = encoder(noisy, lengths)
    with torch.no_grad():
        assert torch.allclose(layers, encoder(waves, lengths)[0], rtol=0, atol=1e-6)
    layers.pow(2).sum().backward()
    assert torch.isfinite(noisy.grad).all() and not noisy.grad[padding].any()
    for row, length in enumerate(lengths.tolist()):  # a few tail samples may lie beyond the last conv frame
        assert (noisy.grad[row, :length] != 0).float().mean() > 0.95


def test_matches_hugging_face_reference_pipeline(encoder, tiny_checkpoints, batch):
    from transformers import AutoFeatureExtractor, Wav2Vec2FeatureExtractor

    directory = tiny_checkpoints[[n for n in FAMILIES if f"hf:{tiny_checkpoints[n]}" == encoder.name][0]]
    has_preprocessor = (directory / "preprocessor_config.json").exists()
    extractor = (
        AutoFeatureExtractor.from_pretrained(directory, local_files_only=True)
        if has_preprocessor
        else Wav2Vec2FeatureExtractor()
    )
    waves, lengths = batch
    wave = waves[1, : lengths[1]].numpy()
    inputs = extractor(wave, sampling_rate=SR, return_tensors="pt")
    with torch.no_grad():
        ours, frames = encoder(waves[1:2, : lengths[1]], lengths[1:2])
        reference = encoder.model(inputs[extractor.model_input_names[0]], output_hidden_states=True).hidden_states
    reference = torch.stack(reference, dim=1)[:, :, : frames.item()]
    assert ours.shape == reference.shape
    assert (ours - reference).abs().max() <= 1e-4 * reference.abs().max()


def test_preprocessor_settings_are_followed(encoders):
    assert encoders["wav2vec2_group"].do_normalize and not encoders["hubert"].do_normalize
    assert encoders["data2vec_audio"].do_normalize  # no preprocessor config: Wav2Vec2FeatureExtractor default
    assert encoders["wav2vec2_group"].conv_per_utterance and not encoders["wav2vec2_layer"].conv_per_utterance


def test_normalisation_matches_wav2vec2_feature_extractor(batch):
    from transformers import Wav2Vec2FeatureExtractor

    from trustser.encoders.huggingface import normalize_per_utterance

    waves, lengths = batch
    reference = Wav2Vec2FeatureExtractor(return_attention_mask=True)(
        [w[:n].numpy() for w, n in zip(waves, lengths.tolist())], sampling_rate=SR, padding=True, return_tensors="pt"
    )
    assert (normalize_per_utterance(waves, lengths) - reference.input_values).abs().max() <= 1e-5


def test_log_mel_matches_whisper_feature_extractor(batch):
    from transformers import WhisperFeatureExtractor

    from trustser.encoders.whisper_frontend import WhisperLogMel

    waves, lengths = batch
    extractor = WhisperFeatureExtractor()
    padded = torch.zeros(len(waves), extractor.n_samples)
    padded[:, : waves.shape[1]] = waves
    reference = extractor._np_extract_fbank_features(padded.numpy(), "cpu")
    ours = WhisperLogMel()(padded)
    assert ours.shape == reference.shape == (len(waves), 80, 3000)
    assert np.abs(ours.numpy() - reference).max() <= 1e-4


def test_whisper_longer_than_30_s_runs_in_windows(encoders):
    whisper = encoders["whisper"]
    wave = torch.from_numpy(voiced(31.0, 150, 7))
    with torch.no_grad():
        layers, frames = whisper(wave[None], torch.tensor([len(wave)]))
        head, _ = whisper(wave[None, :480000], torch.tensor([480000]))
        tail, tail_frames = whisper(wave[None, 480000:], torch.tensor([len(wave) - 480000]))
    assert frames.item() == 1500 + tail_frames.item() == -(-len(wave) // 320)
    assert torch.equal(layers[:, :, :1500], head) and torch.equal(layers[:, :, 1500:], tail)


def test_full_window_reproduces_whisper_classifier(tiny_checkpoints, batch):
    from transformers import WhisperFeatureExtractor, WhisperForAudioClassification

    from trustser.encoders.huggingface import HFEncoder

    directory = tiny_checkpoints["whisper_classifier"]
    classifier = WhisperForAudioClassification.from_pretrained(directory, local_files_only=True).eval()
    extractor = WhisperFeatureExtractor.from_pretrained(directory, local_files_only=True)
    assert classifier.config.id2label == EMOTIONS
    encoder = HFEncoder.from_base_model(classifier.encoder, feature_extractor_settings=extractor, keep_full_window=True)
    assert encoder.model is classifier.encoder  # shared, not copied
    waves, lengths = batch
    with torch.no_grad():
        layers, frames = encoder(waves, lengths)
        logits = classifier.classifier(classifier.projector(layers[:, -1]).mean(1))
        inputs = extractor(
            [w[:n].numpy() for w, n in zip(waves, lengths.tolist())], sampling_rate=SR, return_tensors="pt"
        )
        reference = classifier(inputs.input_features).logits
    assert frames.tolist() == [1500] * len(waves)
    assert (logits - reference).abs().max() <= 1e-4 * reference.abs().max()


def test_from_base_model_of_a_sequence_classifier(tiny_checkpoints, batch):
    from transformers import Wav2Vec2ForSequenceClassification

    from trustser.encoders.huggingface import HFEncoder

    directory = tiny_checkpoints["wav2vec2_classifier"]
    classifier = Wav2Vec2ForSequenceClassification.from_pretrained(directory, local_files_only=True).eval()
    shared = HFEncoder.from_base_model(classifier.wav2vec2, feature_extractor_settings={"do_normalize": True})
    loaded = create(f"hf:{directory}")
    waves, lengths = batch
    with torch.no_grad():
        assert torch.equal(shared(waves, lengths)[0], loaded(waves, lengths)[0])
    assert shared.model is classifier.wav2vec2


def test_fingerprints_are_stable_and_distinct(encoders, tiny_checkpoints):
    assert encoders["whisper"].fingerprint() == create(f"hf:{tiny_checkpoints['whisper']}").fingerprint()
    assert len({encoder.fingerprint() for encoder in encoders.values()}) == len(encoders)


def test_stays_in_eval_mode(encoders):
    assert not encoders["wavlm"].train().training and not encoders["wavlm"].model.training


def test_trimmed_window_equals_the_full_window_on_exactly_one_window_and_is_cheaper(tiny_checkpoints):
    from trustser.encoders import create

    full = create(f"hf:{tiny_checkpoints['whisper']}")
    trimmed = create(f"hf:{tiny_checkpoints['whisper']},window=trimmed")
    assert trimmed.window == "trimmed" and trimmed.fingerprint() != full.fingerprint()
    one_window = torch.from_numpy(voiced(30.0, 150, 3))[None]
    with torch.no_grad():
        expected, expected_frames = full(one_window, torch.tensor([one_window.shape[1]]))
        got, got_frames = trimmed(one_window, torch.tensor([one_window.shape[1]]))
    assert got_frames.tolist() == expected_frames.tolist() == [1500]
    assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()
    short = torch.from_numpy(voiced(1.3, 180, 5))
    waves = torch.zeros(2, len(short) + 8000)
    waves[0, : len(short)], waves[1] = short, torch.from_numpy(voiced(1.8, 120, 6))[: waves.shape[1]]
    lengths = torch.tensor([len(short), waves.shape[1]])
    layers, frames = trimmed(waves.requires_grad_(True), lengths)
    assert frames.tolist() == [len(short) // 320, waves.shape[1] // 320]  # its own audio, no 30 s of padding
    with torch.no_grad():
        alone, _ = trimmed(short[None], torch.tensor([len(short)]))
    assert (layers[0, :, : frames[0]] - alone[0]).abs().max() <= 1e-5 * alone.abs().max()  # padding never seen
    layers.pow(2).sum().backward()
    assert torch.isfinite(waves.grad).all() and (waves.grad[0, : len(short)] != 0).float().mean() > 0.95


def test_window_is_an_option_of_whisper_only(tiny_checkpoints):
    from trustser.encoders import create
    from trustser.encoders.huggingface import split_window_option

    assert split_window_option("/m/whisper,window=trimmed") == ("/m/whisper", "trimmed")
    assert split_window_option("window=trimmed") == (None, "trimmed")
    assert split_window_option("/m/a,b") == ("/m/a,b", "full")
    with pytest.raises(ValueError, match="window=trimmed is an option of Whisper checkpoints"):
        create(f"hf:{tiny_checkpoints['wavlm']},window=trimmed")
    with pytest.raises(ValueError, match="expected one of full, trimmed"):
        create(f"hf:{tiny_checkpoints['whisper']},window=short")
