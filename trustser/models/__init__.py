"""The models the audit judges: our emotion head on an encoder's layers (`head`) and its training
(`training`), and finished models audited as they are (`finished/`: Hugging Face checkpoints and
`torch:` modules); `sources` gives a run its per-fold models from either.

May import: cache, compute, corpora, encoders, features, specs
"""

MODEL_PREFIX = "model:"  # how a finished model's spec is told from a backbone's in the parametrisation
