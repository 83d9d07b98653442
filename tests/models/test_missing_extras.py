"""Without the speechbrain or emotion2vec extra, each spec that needs it is a bad spec (the audit's usage error,
exit 4: tests/audit/test_speechbrain_emotion2vec_audit.py) naming the command that installs it, before anything
is read from the model directory. The extras are blocked as `tests.models.without_extras` blocks them, so this
runs whether they are installed or not."""

from __future__ import annotations

import re
import sys

import pytest

from trustser.encoders import create
from trustser.errors import SpecError
from trustser.models.finished.formats import load_finished_model

EMOTIONS = ("neutral", "happy", "sad", "angry")


@pytest.mark.parametrize(
    "spec, package, install",
    [
        ("model:speechbrain:{}", "speechbrain", "pip install 'trustser[speechbrain]'"),
        ("model:emotion2vec:{}", "funasr", "pip install 'trustser[emotion2vec]'"),
        ("emotion2vec:{}", "funasr", "pip install 'trustser[emotion2vec]'"),
    ],
)
def test_the_error_names_the_install_command(tmp_path, monkeypatch, spec, package, install):
    monkeypatch.setitem(sys.modules, package, None)  # as if not installed (import raises ImportError)
    with pytest.raises(SpecError, match=f"needs? .*{package}.*: {re.escape(install)}"):
        if spec.startswith("model:"):
            load_finished_model(spec.removeprefix("model:").format(tmp_path), EMOTIONS, {})
        else:
            create(spec.format(tmp_path))
