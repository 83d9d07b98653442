"""The audit's side of the two-node test, in its own process (one Ray connection per process): extract
`ge2e` on the cluster at ADDRESS from a corpus whose audio takes a while to read, printing progress.

Usage: python -m tests.scale_out.two_node_driver ADDRESS CACHE_DIR CORPUS_DIR CORPUS_KEY
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from trustser.cache.store import Cache
from trustser.compute.executor import Executor
from trustser.corpora.synthetic import SyntheticCorpus
from trustser.encoders import create
from trustser.features.extraction import ExtractionSettings, extract_features

SETTINGS = ExtractionSettings(batch_seconds=4.0, loader_workers=0)


class SlowCorpus(SyntheticCorpus):
    """The synthetic corpus, each file taking 0.1 s to read: a shard lasts long enough to be cut short."""

    def load_audio(self, utterance_id: str) -> np.ndarray:
        time.sleep(0.1)
        return super().load_audio(utterance_id)


def main(address: str, cache: str, corpus_dir: str, key: str) -> None:
    settings = ExtractionSettings(batch_seconds=SETTINGS.batch_seconds, executor=Executor("ray", address))
    corpus = SlowCorpus(Path(corpus_dir), key)
    extract_features(
        create("ge2e"), corpus, Cache(Path(cache)), settings, progress=lambda line: print(line, flush=True)
    )
    print("extraction finished", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
