"""TrustSER: a trust audit of speech emotion recognition models, run as a pytest suite.

Data flows one way: corpus -> encoder -> cache -> head -> evaluators -> gates -> records -> reports.
"""

__version__ = "0.1.0"
