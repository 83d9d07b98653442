"""`--model speechbrain:DIR`: tiny random SpeechBrain models (trustser.models.finished.tiny_speechbrain), loaded
through `load_finished_model` as users' downloaded copies are, compute what SpeechBrain's own interface
computes, read their labels from the label encoder (else --model-labels), pick the interface the folder
defines, write nothing into the folder, and leave no torchaudio stand-in behind. Skipped without the extra.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest
import torch

from trustser.errors import SpecError
from trustser.models.finished import speechbrain as module
from trustser.models.finished.formats import load_finished_model
from trustser.models.finished.tiny_speechbrain import save_tiny_speechbrain
from trustser.models.head import WaveformClassifier

# speechbrain itself imports only through the loader where torchaudio does not (trustser.models.finished.speechbrain)
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("speechbrain") is None,
    reason="the speechbrain extra is not installed: pip install 'trustser[speechbrain]'",
)

EMOTIONS = ("neutral", "happy", "sad", "angry")  # the tiny models' neu, hap, sad, ang, in this order
KINDS = ("encoder_classifier", "custom_interface")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("speechbrain")
    return {kind: save_tiny_speechbrain(root / kind, kind) for kind in KINDS}


def waves() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [0.05 * torch.randn(int(seconds * 16000), generator=generator) for seconds in (1.0, 0.43, 2.2)]


@pytest.mark.parametrize("kind", KINDS)
def test_it_computes_what_the_speechbrain_interface_computes(folders, kind):
    finished = load_finished_model(f"speechbrain:{folders[kind]}", EMOTIONS, {})
    assert finished.id2label == {0: "neu", 1: "hap", 2: "sad", 3: "ang"}  # from label_encoder.txt
    model = WaveformClassifier(finished.encoder, finished.head).eval()
    with module.speechbrain_importable():
        directory, pymodule, classname = module.interface_of(folders[kind])
        reference = module.load_interface(directory, pymodule, classname)
    for wave in waves():
        with torch.no_grad():
            ours = model(wave[None], torch.tensor([len(wave)]))[0]
            torch.manual_seed(module.NOISE_SEED)  # StatisticsPooling's noise, as the audit fixes it
            theirs = torch.log_softmax(reference.classify_batch(wave[None], torch.ones(1))[0][0], dim=-1)
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_the_same_input_gets_the_same_answer_despite_the_pooling_noise(folders):
    finished = load_finished_model(f"speechbrain:{folders['custom_interface']}", EMOTIONS, {})
    model = WaveformClassifier(finished.encoder, finished.head).eval()
    wave = waves()[0][None]
    with torch.no_grad():
        assert torch.equal(model(wave, torch.tensor([wave.shape[1]])), model(wave, torch.tensor([wave.shape[1]])))


def test_without_a_label_encoder_the_outputs_are_numbered_for_model_labels(folders, tmp_path):
    copy = shutil.copytree(folders["encoder_classifier"], tmp_path / "unlabelled")
    hparams = (copy / "hyperparams.yaml").read_text()
    lines = [line for line in hparams.splitlines() if "label_encoder" not in line]
    (copy / "hyperparams.yaml").write_text("\n".join(lines) + "\n")
    (copy / "label_encoder.txt").unlink()
    with pytest.raises(SpecError, match="--model-labels"):
        load_finished_model(f"speechbrain:{copy}", EMOTIONS, {})
    overrides = {"0": "neutral", "1": "happy", "2": "sad", "3": "angry"}
    finished = load_finished_model(f"speechbrain:{copy}", EMOTIONS, overrides)
    assert finished.id2label == {0: "0", 1: "1", 2: "2", 3: "3"}
    assert finished.head.classifier.groups == [[0], [1], [2], [3]]


def test_a_folder_with_several_interfaces_asks_which_and_takes_the_one_named(folders, tmp_path):
    copy = shutil.copytree(folders["custom_interface"], tmp_path / "two")
    source = (copy / "custom_interface.py").read_text()
    (copy / "other_interface.py").write_text(source.replace("TinyEmotionClassifier", "OtherClassifier"))
    with pytest.raises(SpecError, match=r"several SpeechBrain interfaces; name one: .*custom_interface.py:Tiny"):
        load_finished_model(f"speechbrain:{copy}", EMOTIONS, {})
    named = load_finished_model(f"speechbrain:{copy / 'custom_interface.py'}:TinyEmotionClassifier", EMOTIONS, {})
    assert type(named.encoder.model.interface).__name__ == "TinyEmotionClassifier"


def test_loading_writes_nothing_and_leaves_no_torchaudio_stand_in(folders):
    before = {kind: sorted(path.name for path in folders[kind].iterdir()) for kind in KINDS}
    for kind in KINDS:
        load_finished_model(f"speechbrain:{folders[kind]}", EMOTIONS, {})
    assert before == {kind: sorted(path.name for path in folders[kind].iterdir()) for kind in KINDS}
    assert not isinstance(sys.modules.get("torchaudio"), module.MissingTorchaudio)


def test_the_torchaudio_stand_in_names_what_needed_it():
    stand_in = module.MissingTorchaudio("torchaudio.transforms")
    assert not hasattr(stand_in, "__version__")  # speechbrain's version check reads it as unknown
    with pytest.raises(ImportError, match=r"needs torchaudio\.transforms\.Resample"):
        stand_in.Resample(16000, 8000)


def test_after_loading_every_module_in_the_process_answers_attribute_look_ups(folders):
    """speechbrain leaves placeholders for its old module paths in sys.modules; one whose target needs a
    missing package (k2) raised ImportError on any attribute, failing whatever walked sys.modules later
    in the process (hypothesis's strategies did, in other tests of the same worker)."""
    load_finished_model(f"speechbrain:{folders['encoder_classifier']}", EMOTIONS, {})
    for loaded in list(sys.modules.values()):
        getattr(loaded, "__file__", None)  # raises for such a placeholder
