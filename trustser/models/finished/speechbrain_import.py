"""Importing speechbrain, an optional extra (`pip install 'trustser[speechbrain]'`), torchaudio or not.

torchaudio: speechbrain imports it at module level (`utils/torch_audio_backend.py`, `nnet/CNN.py`,
`inference/classifiers.py`, ...), but building modules from hyperparameters and running them on a waveform
does not call it (speechbrain uses it to resample files and in a few frontends). Where it cannot be
imported (no build exists for the CPU torch this project pins; PyPI's wheel is CUDA-only and fails to
load), speechbrain is imported with `MissingTorchaudio` in its place while the model loads: any use of it
raises ImportError naming what needed it. It is removed from sys.modules once the model is loaded, so no
other package ever sees it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import types

import torch

from trustser.errors import SpecError

INSTALL_HINT = "pip install 'trustser[speechbrain]'"
TORCHAUDIO_MODULES = ("torchaudio", "torchaudio.transforms", "torchaudio.functional")


class SpeechBrainNotInstalled(SpecError, ImportError):
    """speechbrain, the extra, is missing (or one of the packages it imports)."""


class MissingTorchaudio(types.ModuleType):
    """Stands for torchaudio while speechbrain is imported where torchaudio cannot be: using it raises."""

    def __getattr__(self, name: str):
        if name.startswith("__"):  # hasattr(torchaudio, "__version__") and the import machinery's look-ups
            raise AttributeError(name)
        raise ImportError(
            f"torchaudio is not installed (or does not load with this torch), and this model needs "
            f"{self.__name__}.{name}: install a torchaudio build matching torch {torch.__version__}"
        )


def _torchaudio_loads() -> bool:
    try:
        import torchaudio  # noqa: F401
    except (ImportError, OSError):  # OSError: a build for another torch or for CUDA, whose libraries do not load
        return False
    return True


@contextlib.contextmanager
def speechbrain_importable():
    """Within: speechbrain imports, torchaudio or not (see the module docstring); logs below errors are off."""
    added = []
    if not _torchaudio_loads():
        for name in TORCHAUDIO_MODULES:
            sys.modules[name] = MissingTorchaudio(name)
            added.append(name)
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)  # "Failed to detect torchaudio major version", label-encoder length notes
    try:
        try:
            import speechbrain.inference.classifiers  # noqa: F401
        except ImportError as error:
            raise SpeechBrainNotInstalled(
                f"SpeechBrain models need the optional speechbrain package ({error}): {INSTALL_HINT}"
            ) from error
        _drop_unloaded_redirects()
        yield
    finally:
        logging.disable(disabled)
        for name in added:
            sys.modules.pop(name, None)


def _drop_unloaded_redirects() -> None:
    """Take speechbrain's placeholders for its old module paths (`speechbrain.k2_integration` ->
    `speechbrain.integrations.k2_fsa`, ...) out of sys.modules while none has been used.

    Reading any attribute of one imports its target, and an integration whose package is missing (k2)
    then raises ImportError where an AttributeError is expected: whatever walks sys.modules afterwards
    (hypothesis reads every module's `__file__`, `inspect.getmodule`) fails in the same process. Only
    imports by those deprecated names lose their redirect.
    """
    from speechbrain.utils.importutils import DeprecatedModuleRedirect

    for name, module in list(sys.modules.items()):
        if isinstance(module, DeprecatedModuleRedirect) and module.lazy_module is None:
            del sys.modules[name]
