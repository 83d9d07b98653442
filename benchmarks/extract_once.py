"""Extract one backbone's features of one corpus into a cache, alone in this process (for peak-RSS measurement)."""

from __future__ import annotations

import argparse
from pathlib import Path

from trustser.cache.store import Cache
from trustser.corpora import create as create_corpus
from trustser.encoders import create
from trustser.features.extraction import ExtractionSettings, extract_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--feature-dtype", default="float32")
    args = parser.parse_args()
    corpus = create_corpus(args.corpus, Path(args.cache), "skip")
    extract_features(
        create(args.backbone), corpus, Cache(args.cache), ExtractionSettings(feature_dtype=args.feature_dtype)
    )


if __name__ == "__main__":
    main()
