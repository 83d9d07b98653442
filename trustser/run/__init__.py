"""One audit: the session built from the command line's settings (`session`: corpus, folds, one run
per backbone), each backbone's run (`backbone_run`: models and predictions per fold), and the memo
of what evaluators computed from a run (`memo`).

May import: cache, compute, corpora, encoders, features, models
"""
