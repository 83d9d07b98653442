"""Peak memory of inference: the resident-set high-water mark of a fresh process running the model.

Measured in a child interpreter because a long-lived audit process has already touched far more
memory than one model needs (the allocator keeps freed pages), so no rise would show. The child
imports its modules, notes its resident memory (the runtime: interpreter, torch, libraries), resets
the kernel's high-water mark (`/proc/self/clear_refs`), builds the encoder from the registry (plugins'
entry points and `torch:` specs included, found through the parent's sys.path, which the child is given)
and the head from its stored weights, runs inference on probe audio and reads the high-water mark (VmHWM):
the footprint a deployment would see, and the model's own share (weights and activations) above the
runtime. Imports can peak above what follows, hence the reset.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from trustser.compute.children import dies_with_this_process
from trustser.errors import NotApplicable
from trustser.specs.team_code import child_environment


@dataclass(frozen=True)
class FootprintResult:
    peak_mb: float  # peak resident memory of a process running inference, MiB
    runtime_mb: float  # the same process without loading or running the model, MiB
    model_mb: float  # peak_mb - runtime_mb: weights, activations, and what the first inference makes torch load
    audio_seconds: float


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (e.g. VmRSS, VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def measure_footprint(deployment: dict, audio_seconds: float = 6.0) -> FootprintResult:
    """Peak memory of inference on `audio_seconds` of audio with the model `deployment` describes.

    `deployment` is either a backbone with a trained head ({"backbone", "head": weights file, "shape":
    EmotionHead's arguments num_layers, hidden_size, num_classes, config}) or a finished model
    ({"model": spec, "labels": overrides, "emotions": label set}).
    """
    if not Path("/proc/self/clear_refs").exists():
        raise NotApplicable("peak memory is read from Linux's /proc (VmHWM), which this system lacks")
    spec = json.dumps({**deployment, "seconds": audio_seconds})
    command = [sys.executable, "-m", "trustser.pillars.sustainability.footprint", spec]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env=child_environment(),
        preexec_fn=dies_with_this_process(),  # the probe ends with the audit
    )
    if done.returncode != 0:
        what = deployment.get("backbone") or deployment.get("model")
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        last = lines[-1].strip() if lines else f"exit status {done.returncode}"  # the error, e.g. a model's fault
        raise RuntimeError(f"memory probe of {what} failed: {last}\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    peak, runtime = measured["peak_mb"], measured["runtime_mb"]
    return FootprintResult(peak, runtime, peak - runtime, audio_seconds)


def _uses_transformers(spec: dict) -> bool:
    from trustser.encoders.huggingface import SHORT_NAMES

    if "model" in spec:
        return spec["model"].startswith("hf:")
    return spec["backbone"].partition(":")[0] in {"hf", *SHORT_NAMES}


def _probe(spec: dict) -> None:
    import torch
    from safetensors.torch import load_file

    from trustser.encoders import create as create_encoder
    from trustser.encoders.registry import available
    from trustser.models.head import EmotionHead, HeadConfig, WaveformClassifier

    available()  # every encoder module imported: the runtime, not the model
    if _uses_transformers(spec):
        import transformers  # noqa: F401  (a runtime library, imported lazily by the HF encoders)
    runtime = _status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    if "model" in spec:
        from trustser.models.finished.formats import load_finished_model

        attributes = tuple(spec.get("attributes", ()))  # a dimensional audit's regression model
        finished = load_finished_model(spec["model"], tuple(spec["emotions"]), spec["labels"], attributes=attributes)
        model = WaveformClassifier(finished.encoder, finished.head).eval()
    else:
        shape = spec["shape"]
        head = EmotionHead(
            shape["num_layers"], shape["hidden_size"], shape["num_classes"], HeadConfig(**shape["config"])
        )
        head.load_state_dict(load_file(spec["head"]))
        model = WaveformClassifier(create_encoder(spec["backbone"]), head).eval()
    samples = int(spec["seconds"] * model.encoder.sample_rate)
    waves = 0.1 * torch.randn(1, samples, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(waves, torch.tensor([samples]))
    print(json.dumps({"peak_mb": _status_mb("VmHWM"), "runtime_mb": runtime}))


if __name__ == "__main__":
    _probe(json.loads(sys.argv[1]))
