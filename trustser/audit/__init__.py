"""From a backbone's run to each gate's measurement: the wiring the trust tests call.

Each metric's function takes a `BackboneRun` (and the gate's settings object, whole, where the metric
has some) and returns its `Measurement` (value, n, interval, group size, and the evaluator's typed
result as details); none of them judges: `trust.check(measurement)` does. Results are memoised per run so that two tests
reading one evaluation (e.g. statistical parity and equality of opportunity) compute it once, and
slow or unrepeatable ones (attacks, measurements) are stored on disk (`memo.stored`). The functions
live beside their pillar's evaluators (`trustser.pillars.<pillar>.checks`); this facade is what trust
tests, and the copies teams keep, import.

May import: gates, pillars
"""

from trustser.gates.measurement import Measurement
from trustser.pillars.fairness.checks import (
    equality_of_opportunity_gender,
    equality_of_opportunity_speaker,
    gender_fairness,
    speaker_fairness,
    statistical_parity_gender,
    statistical_parity_speaker,
    uar_difference_gender,
    worst_speaker_uar,
)
from trustser.pillars.privacy.checks import (
    EXPOSABLE,
    age_inference,
    age_inference_uar,
    demographic_inference,
    demographic_inference_uar,
    differential_privacy,
    dp_epsilon,
    dp_uar_cost,
    gender_inference,
    gender_inference_uar,
    membership,
    membership_advantage,
    speaker_id_accuracy,
    speaker_identification_attack,
    speaker_verification_attack,
    speaker_verification_eer,
)
from trustser.pillars.safety.checks import (
    black_box_attack_audit,
    blackbox_success_rate,
    invariance,
    invariance_flip_rate,
    noise_robustness_audit,
    noise_uar_drop,
    transfer_attack_audit,
    transfer_success_rate,
    white_box_attack,
    white_box_success_rate,
)
from trustser.pillars.sustainability.checks import (
    energy_kwh_per_audio_hour,
    extraction_energy,
    extraction_energy_kwh_per_audio_hour,
    gflops_per_audio_second,
    inference_energy,
    inference_footprint,
    inference_latency,
    parameters,
    peak_memory_mb,
    real_time_factor,
    training_energy,
    training_energy_kwh_per_audio_hour,
)
from trustser.pillars.utility.checks import accuracy, cross_corpus_uar_drop, transfer, uar, utility

__all__ = [
    "EXPOSABLE",
    "Measurement",
    # what the trust tests call: one function per metric (its name after the dot), returning its Measurement
    "accuracy",
    "age_inference_uar",
    "blackbox_success_rate",
    "cross_corpus_uar_drop",
    "demographic_inference_uar",
    "dp_epsilon",
    "dp_uar_cost",
    "energy_kwh_per_audio_hour",
    "equality_of_opportunity_gender",
    "equality_of_opportunity_speaker",
    "extraction_energy_kwh_per_audio_hour",
    "gender_inference_uar",
    "gflops_per_audio_second",
    "invariance_flip_rate",
    "membership_advantage",
    "noise_uar_drop",
    "parameters",
    "peak_memory_mb",
    "real_time_factor",
    "speaker_id_accuracy",
    "speaker_verification_eer",
    "statistical_parity_gender",
    "statistical_parity_speaker",
    "training_energy_kwh_per_audio_hour",
    "transfer_success_rate",
    "uar",
    "uar_difference_gender",
    "white_box_success_rate",
    "worst_speaker_uar",
    # the evaluations they read, each returning its evaluator's typed result (memoised per run)
    "age_inference",
    "black_box_attack_audit",
    "demographic_inference",
    "differential_privacy",
    "extraction_energy",
    "gender_fairness",
    "gender_inference",
    "inference_energy",
    "inference_footprint",
    "inference_latency",
    "invariance",
    "membership",
    "noise_robustness_audit",
    "speaker_fairness",
    "speaker_identification_attack",
    "speaker_verification_attack",
    "training_energy",
    "transfer",
    "transfer_attack_audit",
    "utility",
    "white_box_attack",
]
