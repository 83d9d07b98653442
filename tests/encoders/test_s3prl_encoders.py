"""s3prl APC / TERA behind the `Encoder` contract.

s3prl is an optional extra, so the wrapper is tested against a stand-in with `S3PRLUpstream`'s
interface; the real upstreams run only when s3prl is installed and checkpoints are given in
TRUSTSER_S3PRL_APC_CKPT / TRUSTSER_S3PRL_TERA_CKPT. Batched vs one-at-a-time tolerance as in
`trustser.testing`: max |difference| <= 1e-5 x max |single|.
"""

import os
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

from trustser.encoders import available, create
from trustser.encoders.base import pad_waveforms
from trustser.testing import check_encoder

HOP = 160
INSTALL_REASON = "s3prl is an optional extra: pip install trustser[s3prl]"


class StandInUpstream(nn.Module):
    """`s3prl.nn.S3PRLUpstream`'s interface: input features (width 4) then two GRU layers (width 8),
    one frame per 160 samples, len // 160 + 1 frames, each utterance processed unpadded."""

    def __init__(self, name, path_or_url=None, refresh=False, normalize=False, extra_conf=None):
        super().__init__()
        assert name in ("apc_local", "tera_local") and Path(path_or_url).is_file()
        torch.manual_seed(0)
        self.frame = nn.Linear(HOP, 4)
        self.grus = nn.ModuleList([nn.GRU(4, 8, batch_first=True), nn.GRU(8, 8, batch_first=True)])
        self.hidden_sizes, self.downsample_rates = [4, 8, 8], [HOP] * 3
        self.train()  # as the real one leaves it

    def forward(self, wavs, wavs_len):
        lens = torch.div(wavs_len, HOP, rounding_mode="floor") + 1
        per_utterance = []
        for wave, n, frames in zip(wavs, wavs_len.tolist(), lens.tolist()):
            x = self.frame(nn.functional.pad(wave[:n], (0, frames * HOP - n)).view(1, frames, HOP))
            states = [x]
            for gru in self.grus:
                states.append(gru(states[-1])[0])
            per_utterance.append(states)
        longest = int(lens.max())
        hs = [
            torch.cat([nn.functional.pad(u[i], (0, 0, 0, longest - u[i].shape[1])) for u in per_utterance])
            for i in range(3)
        ]
        return hs, [lens] * 3


@pytest.fixture
def stand_in_s3prl(monkeypatch, tmp_path):
    package, nn_module = types.ModuleType("s3prl"), types.ModuleType("s3prl.nn")
    nn_module.S3PRLUpstream = StandInUpstream
    package.nn = nn_module
    monkeypatch.setitem(sys.modules, "s3prl", package)
    monkeypatch.setitem(sys.modules, "s3prl.nn", nn_module)
    checkpoint = tmp_path / "apc.ckpt"
    checkpoint.write_bytes(b"stand-in weights")
    return checkpoint


@pytest.fixture(scope="module")
def batch():
    torch.manual_seed(1)
    return pad_waveforms(0.05 * torch.randn(n) for n in (16000, 5923, 9999))


def test_registry_lists_s3prl_names():
    assert {"s3prl", "apc", "tera"} <= set(available())


@pytest.mark.parametrize("spec", ["apc:/tmp/apc.ckpt", "s3prl:tera=/tmp/tera.ckpt", "tera"])
def test_missing_s3prl_says_how_to_install(spec, monkeypatch):
    from trustser.encoders.s3prl import S3PRLNotInstalled

    monkeypatch.setitem(sys.modules, "s3prl", None)  # import s3prl now raises ImportError
    monkeypatch.setitem(sys.modules, "s3prl.nn", None)
    with pytest.raises(S3PRLNotInstalled, match=r"pip install trustser\[s3prl\]"):
        create(spec)


def test_wrapper_meets_the_contract(stand_in_s3prl, batch):
    encoder = create(f"s3prl:apc={stand_in_s3prl}")
    check_encoder(encoder)  # the real upstreams, when installed, are checked in test_encoder_contract.py
    assert (encoder.num_layers, encoder.hidden_size, encoder.layer_indices) == (2, 8, [1, 2])
    assert encoder.differentiable and not encoder.upstream.training
    waves, lengths = batch
    with torch.no_grad():
        assert encoder(waves, lengths)[1].tolist() == (lengths // HOP + 1).tolist()
    assert encoder.fingerprint() == create(f"apc:{stand_in_s3prl}").fingerprint()


def test_without_checkpoint_downloads_are_opt_in(stand_in_s3prl, monkeypatch):
    from trustser.encoders.hf_loading import ModelNotAvailable

    monkeypatch.delenv("TRUSTSER_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(ModelNotAvailable, match="TRUSTSER_ALLOW_DOWNLOAD"):
        create("tera")


@pytest.mark.parametrize("upstream", ["apc", "tera"])
def test_real_s3prl_upstream(upstream, batch):
    pytest.importorskip("s3prl", reason=INSTALL_REASON)
    checkpoint = os.environ.get(f"TRUSTSER_S3PRL_{upstream.upper()}_CKPT")
    if not checkpoint:
        pytest.skip(f"set TRUSTSER_S3PRL_{upstream.upper()}_CKPT to a local {upstream} checkpoint")
    encoder = create(f"s3prl:{upstream}={checkpoint}")
    waves, lengths = batch
    with torch.no_grad():
        layers, frame_lengths = encoder(waves, lengths)
        assert layers.shape == (len(lengths), encoder.num_layers, int(frame_lengths.max()), encoder.hidden_size)
        for row, n in enumerate(lengths.tolist()):
            alone, _ = encoder(waves[row : row + 1, :n], lengths[row : row + 1])
            assert (layers[row, :, : alone.shape[2]] - alone[0]).abs().max() <= 1e-5 * alone.abs().max()
