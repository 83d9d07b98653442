"""Importing FunASR, the emotion2vec extra (`pip install 'trustser[emotion2vec]'`), without its side effects."""

from __future__ import annotations

import contextlib
import io
import logging
import random

import numpy as np
import torch

from trustser.errors import SpecError

INSTALL_HINT = "pip install 'trustser[emotion2vec]'"


class FunASRNotInstalled(SpecError, ImportError):
    """funasr, the emotion2vec extra, is missing."""


def auto_model_class():
    """FunASR's AutoModel, imported quietly; FunASRNotInstalled naming the install command without funasr."""
    try:
        with quiet_and_seeded():  # importing funasr prints notices and installs a root log handler
            from funasr import AutoModel
    except ImportError as error:
        raise FunASRNotInstalled(f"emotion2vec needs the optional funasr package ({error}): {INSTALL_HINT}") from error
    return AutoModel


@contextlib.contextmanager
def quiet_and_seeded():
    """FunASR's AutoModel prints, configures the root logger and reseeds random, numpy and torch: none of
    that may leak into the audit, whose logging and random streams are its own."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    printed = io.StringIO()
    try:
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(printed):
            yield printed
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        random.setstate(python_state)
        np.random.set_state(numpy_state)
