"""From a backbone's run to each pillar's typed result: the wiring the trust tests call.

Each function takes a `BackboneRun` (and the gate's settings where the metric has some) and returns
an evaluator's frozen result; none of them judges. Results are memoised per run so that two tests
reading one evaluation (e.g. statistical parity and equality of opportunity) compute it once, and
slow or unrepeatable ones (attacks, measurements) are stored on disk (`memo.stored`). The functions
live beside their pillar's evaluators (`trustser.pillars.<pillar>.checks`); this facade is what trust
tests, and the copies teams keep, import.

May import: pillars
"""

from trustser.pillars.fairness.checks import gender_fairness, speaker_fairness
from trustser.pillars.privacy.checks import (
    EXPOSABLE,
    age_inference,
    demographic_inference,
    differential_privacy,
    gender_inference,
    membership,
    speaker_identification_attack,
    speaker_verification_attack,
)
from trustser.pillars.safety.checks import (
    black_box_attack_audit,
    invariance,
    noise_robustness_audit,
    transfer_attack_audit,
    white_box_attack,
)
from trustser.pillars.sustainability.checks import (
    extraction_energy,
    gflops_per_audio_second,
    inference_energy,
    inference_footprint,
    inference_latency,
    parameters,
    training_energy,
)
from trustser.pillars.utility.checks import utility

__all__ = [
    "EXPOSABLE",
    "age_inference",
    "black_box_attack_audit",
    "demographic_inference",
    "differential_privacy",
    "extraction_energy",
    "gender_fairness",
    "gender_inference",
    "gflops_per_audio_second",
    "inference_energy",
    "inference_footprint",
    "inference_latency",
    "invariance",
    "membership",
    "noise_robustness_audit",
    "parameters",
    "speaker_fairness",
    "speaker_identification_attack",
    "speaker_verification_attack",
    "training_energy",
    "transfer_attack_audit",
    "utility",
    "white_box_attack",
]
