"""Speech encoders behind one interface (`Encoder`), found by name in the registry."""

from trustser.encoders.base import Encoder
from trustser.encoders.registry import available, create, register

__all__ = ["Encoder", "available", "create", "register"]
