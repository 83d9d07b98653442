"""The tiny Hugging Face checkpoints of trustser.encoders.tiny_checkpoints, as a session fixture:
`import` this module's `tiny_checkpoints` fixture to use them (name -> directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustser.encoders.tiny_checkpoints import EMOTIONS, build_tiny_checkpoints, save_wav2vec_family, save_whisper

__all__ = ["EMOTIONS", "build_tiny_checkpoints", "save_wav2vec_family", "save_whisper", "tiny_checkpoints"]


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory) -> dict[str, Path]:
    return build_tiny_checkpoints(tmp_path_factory.mktemp("tiny_hf_checkpoints"))
