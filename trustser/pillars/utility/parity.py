"""Export parity: does the exported model (`--export-parity onnx:...`) answer as the model it was exported from
(`--model torch:...`) does, utterance by utterance? (docs/metrics.md, Utility)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHOWN = 5  # the utterances named in the result: those whose posteriors moved most


@dataclass(frozen=True)
class ParityResult:
    reference: str  # the audited model, as --model names it
    exported: str  # its export, as --export-parity names it
    n: int  # utterances both answered
    same_class_share: float  # utterances whose predicted emotion is the same
    changed: int  # utterances whose predicted emotion differs
    max_delta: float  # the largest |Δ posterior| over utterances and emotions
    p99_delta: float  # its 99th percentile over utterances (each utterance's largest |Δ|)
    mean_delta: float
    most_moved: tuple[tuple[str, float], ...]  # (utterance id, its largest |Δ posterior|), largest first

    @property
    def note(self) -> str:
        """The share of changed predictions, in words: every parity gate's message ends with it."""
        share = self.changed / max(self.n, 1)
        return f"{self.changed} of {self.n} utterances ({share:.1%}) change their predicted emotion"


def evaluate_parity(
    reference: np.ndarray, exported: np.ndarray, ids: list[str], *, reference_name: str, exported_name: str
) -> ParityResult:
    """Posteriors [utterances, emotions] of the two models on the same utterances (rows aligned with `ids`)."""
    if reference.shape != exported.shape or len(ids) != len(reference):
        shapes = f"{reference_name} {reference.shape} and {exported_name} {exported.shape}"
        raise ValueError(f"the posteriors of {shapes} do not line up")
    same = reference.argmax(1) == exported.argmax(1)
    delta = np.abs(reference - exported).max(1)  # each utterance's largest change, over the emotions
    order = np.argsort(-delta, kind="stable")[:SHOWN]
    return ParityResult(
        reference=reference_name,
        exported=exported_name,
        n=len(ids),
        same_class_share=float(same.mean()),
        changed=int((~same).sum()),
        max_delta=float(delta.max()),
        p99_delta=float(np.percentile(delta, 99)),
        mean_delta=float(delta.mean()),
        most_moved=tuple((ids[i], float(delta[i])) for i in order),
    )
