"""A finished model's labels -> the audit's emotions: read from names, overridable, merged by probability."""

import pytest
import torch
from torch import nn

from trustser.errors import SpecError
from trustser.models.finished.labels import MappedClassifier, label_groups, parse_overrides

EMOTIONS = ("neutral", "happy", "sad", "angry")


def test_labels_are_read_by_their_usual_spellings_and_extra_labels_left_out():
    id2label = {0: "ang", 1: "Happiness", 2: "neu", 3: "fear", 4: "SAD"}
    assert label_groups(id2label, EMOTIONS, {}) == [[2], [1], [4], [0]]


def test_overrides_by_name_or_id_merge_and_leave_out():
    id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "exc", 3: "LABEL_3", 4: "LABEL_4"}
    overrides = parse_overrides("LABEL_0=neutral, 1=happy,exc=happy,LABEL_3=sad,4=angry")
    assert label_groups(id2label, EMOTIONS, overrides) == [[0], [1, 2], [3], [4]]
    overrides["exc"] = "-"
    assert label_groups(id2label, EMOTIONS, overrides) == [[0], [1], [3], [4]]


def test_an_emotion_without_an_output_names_the_labels_and_the_option():
    with pytest.raises(ValueError, match=r"\['angry'\].*--model-labels"):
        label_groups({0: "neu", 1: "hap", 2: "sad"}, EMOTIONS, {})
    with pytest.raises(ValueError, match="does not have"):
        label_groups({0: "neu", 1: "hap", 2: "sad", 3: "ang"}, EMOTIONS, {"anger": "angry"})
    with pytest.raises(SpecError, match="label=emotion"):
        parse_overrides("neu:neutral")


def test_merged_outputs_sum_probabilities_and_single_ones_keep_the_argmax():
    torch.manual_seed(0)
    linear = nn.Linear(6, 5)
    pooled = torch.randn(32, 6)
    mapped = MappedClassifier(linear, [[0], [1, 2], [3], [4]])
    probabilities = torch.softmax(linear(pooled), -1)
    merged = torch.stack(
        [probabilities[:, 0], probabilities[:, 1] + probabilities[:, 2], probabilities[:, 3], probabilities[:, 4]], 1
    )
    torch.testing.assert_close(mapped(pooled).exp(), merged)
    single = MappedClassifier(linear, [[0], [1], [3], [4]])
    assert torch.equal(single(pooled).argmax(1), linear(pooled)[:, [0, 1, 3, 4]].argmax(1))
