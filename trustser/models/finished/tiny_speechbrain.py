"""Tiny random SpeechBrain models in the layout of SpeechBrain's model repositories, for tests and the contract
checks: `hyperparams.yaml` (modules, a `pretrainer` reading `<pretrained_path>/...`), one checkpoint per
module, `label_encoder.txt` labelled neu, hap, sad, ang. Two kinds, as SpeechBrain's emotion models come:

- `encoder_classifier`: what `EncoderClassifier` loads (Fbank, sentence mean normalisation, an ECAPA-TDNN
  embedding model and its classifier), as speechbrain/spkrec-ecapa-voxceleb or the language-id models;
- `custom_interface`: a `foreign_class` model, as speechbrain/emotion-recognition-wav2vec2-IEMOCAP: an
  encoder, average pooling and a linear output through its own `custom_interface.py`.

Needs speechbrain (imported when called).
"""

from __future__ import annotations

from pathlib import Path

import torch

LABELS = ("neu", "hap", "sad", "ang")

ENCODER_CLASSIFIER = """\
sample_rate: 16000
pretrained_path: speechbrain/tiny-ser  # as in SpeechBrain's repositories: a hub id, pointed at DIR on load
n_mels: 20
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: !ref <n_mels>
mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False
embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: !ref <n_mels>
    channels: [16, 16, 16, 16, 48]
    kernel_sizes: [5, 3, 3, 3, 1]
    dilations: [1, 2, 3, 4, 1]
    attention_channels: 8
    lin_neurons: 16
classifier: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier
    input_size: 16
    out_neurons: 4
label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder
modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    classifier: !ref <classifier>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
        classifier: !ref <classifier>
        label_encoder: !ref <label_encoder>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
        classifier: !ref <pretrained_path>/classifier.ckpt
        label_encoder: !ref <pretrained_path>/label_encoder.txt
"""

CUSTOM_INTERFACE = """\
sample_rate: 16000
pretrained_path: speechbrain/tiny-ser-custom
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: 20
encoder: !new:speechbrain.nnet.containers.Sequential
    input_shape: [null, null, 20]
    linear: !name:speechbrain.nnet.linear.Linear
        n_neurons: 16
    activation: !new:torch.nn.Tanh
avg_pool: !new:speechbrain.nnet.pooling.StatisticsPooling
    return_std: False
output_mlp: !new:speechbrain.nnet.linear.Linear
    input_size: 16
    n_neurons: 4
    bias: False
softmax: !new:speechbrain.nnet.activations.Softmax
    apply_log: True
label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder
modules:
    compute_features: !ref <compute_features>
    encoder: !ref <encoder>
    output_mlp: !ref <output_mlp>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        encoder: !ref <encoder>
        output_mlp: !ref <output_mlp>
        label_encoder: !ref <label_encoder>
    paths:
        encoder: !ref <pretrained_path>/encoder.ckpt
        output_mlp: !ref <pretrained_path>/output_mlp.ckpt
        label_encoder: !ref <pretrained_path>/label_encoder.txt
"""

INTERFACE_MODULE = '''\
"""The interface this model's card loads with foreign_class (as the IEMOCAP model's custom_interface.py)."""

import torch
from speechbrain.inference.interfaces import Pretrained


class TinyEmotionClassifier(Pretrained):
    MODULES_NEEDED = ["compute_features", "encoder", "output_mlp"]

    def encode_batch(self, wavs, wav_lens=None):
        wavs = wavs.to(self.device).float()
        wav_lens = torch.ones(wavs.shape[0], device=self.device) if wav_lens is None else wav_lens.to(self.device)
        frames = self.mods.encoder(self.mods.compute_features(wavs))
        return self.hparams.avg_pool(frames, wav_lens)

    def classify_batch(self, wavs, wav_lens=None):
        outputs = self.hparams.softmax(self.mods.output_mlp(self.encode_batch(wavs, wav_lens)).squeeze(1))
        score, index = torch.max(outputs, dim=-1)
        return outputs, score, index, self.hparams.label_encoder.decode_torch(index)
'''

KINDS = {"encoder_classifier": (ENCODER_CLASSIFIER, None), "custom_interface": (CUSTOM_INTERFACE, INTERFACE_MODULE)}


def save_tiny_speechbrain(directory: Path, kind: str = "encoder_classifier", *, seed: int = 0) -> Path:
    """Write a tiny model of `kind` (random weights from `seed`) into `directory`, as SpeechBrain saves one."""
    from trustser.models.finished.speechbrain_import import speechbrain_importable

    hparams_text, interface = KINDS[kind]
    directory.mkdir(parents=True, exist_ok=True)
    with speechbrain_importable(), torch.random.fork_rng(devices=[]):
        from hyperpyyaml import load_hyperpyyaml

        torch.manual_seed(seed)
        hparams = load_hyperpyyaml(hparams_text, overrides={"pretrained_path": str(directory)})
        for name in hparams["pretrainer"].loadables:
            if name != "label_encoder":
                torch.save(hparams[name].state_dict(), directory / f"{name}.ckpt")
        label_encoder = hparams["label_encoder"]
        label_encoder.update_from_iterable(LABELS)
        label_encoder.save(directory / "label_encoder.txt")
    (directory / "hyperparams.yaml").write_text(hparams_text, encoding="utf-8")
    if interface is not None:
        (directory / "custom_interface.py").write_text(interface, encoding="utf-8")
    return directory
