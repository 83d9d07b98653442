"""The train × test UAR matrix of a run with `--test-corpus` (nkululeko's train-on-A/test-on-B grid, EmoBox's
cross-corpus track): each backbone's UAR in-corpus and on every test corpus, laid out from the records."""

from __future__ import annotations

from trustser.report.records import TrustRecord

UAR = "utility.uar"


def transfer_matrix(records: list[TrustRecord], meta: dict) -> dict | None:
    """{"train_corpus", "test_corpora", "uar": backbone -> corpus -> [UAR or None, verdict]} of the records of
    the UAR gate, the training corpus first; None for a run without --test-corpus."""
    tests = list(meta.get("test_corpora") or ())
    if not tests:
        return None
    corpora = [meta.get("corpus", ""), *tests]
    found = {(r.backbone, r.corpus): r for r in records if r.metric == UAR}
    backbones = list(dict.fromkeys([*meta.get("backbones", []), *(backbone for backbone, _ in found)]))
    uar = {}
    for backbone in backbones:
        cells = {corpus: found.get((backbone, corpus)) for corpus in corpora}
        uar[backbone] = {corpus: None if r is None else [r.value, r.verdict] for corpus, r in cells.items()}
    return {"train_corpus": corpora[0], "test_corpora": tests, "uar": uar}
