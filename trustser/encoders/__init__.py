"""Speech encoders behind one interface (`Encoder`), found by name in the registry: one module per
family (MFCC, eGeMAPS, GE2E, Hugging Face SSL models and Whisper, s3prl's APC and TERA, a team's
`torch:` module), each differentiable from the waveform where its reference is.

May import: specs
"""

from trustser.encoders.base import Encoder
from trustser.encoders.registry import available, create, register

__all__ = ["Encoder", "available", "create", "register"]
