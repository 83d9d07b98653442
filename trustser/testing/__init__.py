"""Contract checks for encoder and corpus authors, in the style of scikit-learn's `check_estimator`.

`check_encoder(encoder)` and `check_corpus(corpus)` run every rule of the contract the audit relies
on and raise `AssertionError` naming the encoder or corpus and the first rule it breaks.
`encoder_checks` / `corpus_checks` yield the rules as `(rule, check)` pairs, so a test suite can run
one test per rule; `ENCODER_RULES` / `CORPUS_RULES` name them. docs/plugins.md shows both in use.

May import: corpora, encoders
"""

from trustser.testing.corpora import CORPUS_RULES, check_corpus, corpus_checks
from trustser.testing.encoders import ENCODER_RULES, check_encoder, encoder_checks

__all__ = ["CORPUS_RULES", "ENCODER_RULES", "check_corpus", "check_encoder", "corpus_checks", "encoder_checks"]
