"""Finished models audited as they are (`--model hf:/path/to/checkpoint`), beside backbones with our heads."""

MODEL_PREFIX = "model:"  # how a finished model's spec is told from a backbone's in the parametrisation
