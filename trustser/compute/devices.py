"""Where the audit's tensor work runs (`--device`) and in which precision extraction runs (`--precision`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

DEVICE_CHOICES = "auto|cpu|cuda|cuda:N"
PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


class DeviceError(ValueError):
    """A --device or --precision the machine cannot honour; the message says why."""


def resolve_device(spec: str = "auto") -> torch.device:
    """`auto`: the first GPU torch sees, else the CPU; `cpu`; `cuda` or `cuda:N`, which must exist."""
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {spec}: torch sees no CUDA GPU (torch {torch.__version__}); use --device cpu")
        index = spec.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise DeviceError(
                f"--device {spec}: torch sees {torch.cuda.device_count()} GPU(s), cuda:0 to "
                f"cuda:{torch.cuda.device_count() - 1}"
            )
        return torch.device(spec)
    raise DeviceError(f"--device {spec!r}: expected {DEVICE_CHOICES}")


@dataclass(frozen=True)
class Compute:
    """A resolved device and extraction precision. On the CPU extraction is always fp32."""

    device: torch.device
    precision: str = "fp32"

    @classmethod
    def resolve(cls, device: str = "auto", precision: str = "fp32") -> "Compute":
        if precision not in PRECISIONS:
            raise DeviceError(f"--precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
        resolved = resolve_device(device)
        return cls(resolved, precision if resolved.type == "cuda" else "fp32")

    @property
    def tag(self) -> str:
        """What the features depend on besides encoder and corpus: GPU kernels and autocast change the numbers."""
        return f"{self.device.type}-{self.precision}"

    def autocast(self) -> contextlib.AbstractContextManager:
        dtype = PRECISIONS[self.precision]
        if dtype is None or self.device.type != "cuda":
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=dtype)

    def release_cached_memory(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


CPU = Compute(torch.device("cpu"))


@contextlib.contextmanager
def torch_threads(count: int):
    """torch's intra-op thread count set to `count` inside the block, and restored after."""
    if count < 1:
        raise ValueError(f"need at least one thread, got {count}")
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
