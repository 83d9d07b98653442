"""APC and TERA through s3prl (an optional extra: `pip install trustser[s3prl]`).

`s3prl:apc=/path/to/apc.ckpt` (or `apc:/path/to/apc.ckpt`) loads a local checkpoint via
`s3prl.nn.S3PRLUpstream("apc_local", path_or_url=...)`; likewise `tera`. Without a path s3prl would
download its registered checkpoint, which only happens with `TRUSTSER_ALLOW_DOWNLOAD=1`.

The layers are `S3PRLUpstream`'s hidden states, those of the last layer's width (APC's and TERA's
first entry can be the input features, narrower than the rest); frames are len // 160 + 1 as s3prl
reports them. s3prl slices every utterance to its length before its own padding, so the batch
padding given here is discarded. Whether gradients reach the waveform depends on the upstream's
feature frontend, so it is checked once on load and `differentiable` says what was found.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import torch

from trustser.encoders.base import Encoder, frame_mask
from trustser.encoders.hf_loading import ALLOW_DOWNLOAD_ENV, ModelNotAvailable, download_allowed
from trustser.encoders.registry import register
from trustser.errors import SpecError
from trustser.specs.registrations import Example, Unavailable

UPSTREAMS = ("apc", "tera")
INSTALL_HINT = "pip install trustser[s3prl]"


class S3PRLNotInstalled(SpecError, ImportError):
    """s3prl is an optional dependency and is missing."""


def _upstream_class():
    try:
        from s3prl.nn import S3PRLUpstream
    except ImportError as error:
        raise S3PRLNotInstalled(f"the s3prl encoders need the optional s3prl package: {INSTALL_HINT}") from error
    return S3PRLUpstream


def _gradient_reaches_input(upstream: torch.nn.Module) -> bool:
    wave = (0.01 * torch.randn(1, 16000)).requires_grad_(True)
    try:
        with torch.enable_grad():
            hidden_states, _ = upstream(wave, torch.tensor([16000]))
            hidden_states[-1].pow(2).sum().backward()
    except RuntimeError:  # e.g. "element 0 of tensors does not require grad"
        return False
    finally:
        upstream.zero_grad(set_to_none=True)
    return wave.grad is not None and bool(torch.isfinite(wave.grad).all()) and bool(wave.grad.abs().sum() > 0)


class S3PRLEncoder(Encoder):
    sample_rate = 16000

    def __init__(self, upstream_name: str, checkpoint: Path | None = None):
        super().__init__()
        if upstream_name not in UPSTREAMS:
            raise ValueError(f"unknown s3prl upstream {upstream_name!r}; supported: {', '.join(UPSTREAMS)}")
        S3PRLUpstream = _upstream_class()  # first: a missing package is the first thing to fix
        if checkpoint is None and not download_allowed():
            raise ModelNotAvailable(
                f"s3prl {upstream_name} needs a local checkpoint: `s3prl:{upstream_name}=/path/to"
                f"/{upstream_name}.ckpt`, or set {ALLOW_DOWNLOAD_ENV}=1 to let s3prl download it"
            )
        if checkpoint is not None and not checkpoint.is_file():
            raise ModelNotAvailable(f"s3prl {upstream_name} checkpoint {checkpoint} does not exist")
        if checkpoint is None:
            self.upstream = S3PRLUpstream(upstream_name)
        else:
            self.upstream = S3PRLUpstream(f"{upstream_name}_local", path_or_url=str(checkpoint))
        self.name = upstream_name
        self.checkpoint = checkpoint
        widths = list(self.upstream.hidden_sizes)
        self.layer_indices = [i for i, width in enumerate(widths) if width == widths[-1]]
        self.num_layers = len(self.layer_indices)
        self.hidden_size = widths[-1]
        self.eval()  # S3PRLUpstream leaves its upstream in training mode after its probe forward
        self.differentiable = _gradient_reaches_input(self.upstream)
        self.non_differentiable_reason = (
            ""
            if self.differentiable
            else (f"s3prl's {upstream_name} frontend does not pass gradients to the waveform (checked on load)")
        )

    def train(self, mode: bool = True) -> "S3PRLEncoder":
        return super().train(False)  # feature extraction only

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden_states, frame_lengths = self.upstream(waveforms, lengths)
        frame_lengths = frame_lengths[self.layer_indices[-1]].to(lengths.device)
        frames = int(frame_lengths.max())
        layers = torch.stack([hidden_states[i][:, :frames] for i in self.layer_indices], dim=1)
        return layers * frame_mask(frame_lengths, frames)[:, None, :, None], frame_lengths

    def config(self) -> dict:
        return {"upstream": self.name, "layers": self.layer_indices}

    def fingerprint(self) -> str:
        if self.checkpoint is None:
            return super().fingerprint()
        digest = hashlib.sha256(repr(sorted(self.config().items())).encode())
        with self.checkpoint.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
        return digest.hexdigest()[:16]


def _parse(argument: str | None) -> tuple[str, Path | None]:
    """`apc`, `apc=/path/ckpt` -> ("apc", Path or None)."""
    if not argument:
        raise ValueError(f"s3prl needs an upstream: s3prl:<{'|'.join(UPSTREAMS)}>[=/path/to/checkpoint]")
    name, _, path = argument.partition("=")
    return name, Path(path).expanduser() if path else None


def with_local_checkpoint(prefix: str, upstream: str) -> Example:
    """`<prefix><checkpoint>` on the real checkpoint TRUSTSER_S3PRL_<UPSTREAM>_CKPT names (no tiny one exists);
    unavailable without s3prl or the variable."""
    variable = f"TRUSTSER_S3PRL_{upstream.upper()}_CKPT"

    def build(scratch: Path) -> str:
        if importlib.util.find_spec("s3prl") is None:
            raise Unavailable(f"s3prl is an optional extra: {INSTALL_HINT}")
        if not os.environ.get(variable):
            raise Unavailable(f"set {variable} to a local checkpoint to check {prefix}<checkpoint>")
        return f"{prefix}{os.environ[variable]}"

    return Example(f"{prefix}<{variable}>", build)


@register("s3prl", checked_as=[with_local_checkpoint("s3prl:apc=", "apc")])
def create_s3prl(argument: str | None) -> Encoder:
    return S3PRLEncoder(*_parse(argument))


@register("apc", checked_as=[with_local_checkpoint("apc:", "apc")])
def create_apc(argument: str | None) -> Encoder:
    """`apc:/path/to/apc.ckpt`."""
    return S3PRLEncoder("apc", Path(argument).expanduser() if argument else None)


@register("tera", checked_as=[with_local_checkpoint("tera:", "tera")])
def create_tera(argument: str | None) -> Encoder:
    """`tera:/path/to/tera.ckpt`."""
    return S3PRLEncoder("tera", Path(argument).expanduser() if argument else None)
