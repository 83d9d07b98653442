"""TrustSER: a trust audit of speech emotion recognition models, run as a pytest suite.

The packages read as the pipeline, lowest layer first; each package's docstring says what it holds
and, on its `May import:` line, which packages it may import (tests/core/test_layers.py enforces it):

    cache, compute, specs, gates   content-addressed cache; devices, executor, memory, energy meters;
                                   a team's code named by a spec; metric declarations and thresholds
    corpora, encoders              emotional speech corpora and their folds; speech encoders
    features                       per-layer frame features: extraction, shards, the on-disk store
    models                         our emotion head, its training, and finished models (hf:, torch:)
    run                            one audit session: the corpus split and one run per backbone
    pillars                        utility, privacy, fairness, safety, sustainability: measurements
    report                         trust records and their renderings (JUnit, JSON, Markdown, HTML)
    pytest_plugin, audit, testing  the pytest plugin, the facade trust tests call, contract checks

The modules at the top, `errors`, `vocabulary` and `formatting`, may be imported by every package
and import no package; `cli` sits above everything.
"""
