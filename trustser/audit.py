"""From a backbone's run to each pillar's typed result: the wiring the trust tests call.

Each function takes a `BackboneRun` (and the gate's settings where the metric has some) and returns
an evaluator's frozen result; none of them judges. Results are memoised per run so that two tests
reading one evaluation (e.g. statistical parity and equality of opportunity) compute it once.
"""

from __future__ import annotations

import dataclasses
from functools import wraps

import numpy as np
import torch

from trustser.cache import content_key
from trustser.errors import NotApplicable
from trustser.fairness import FairnessResult, evaluate_fairness
from trustser.features import load_waveform
from trustser.pipeline import BackboneRun
from trustser.privacy import AttributeInferenceResult, attribute_inference
from trustser.report.records import plain_details
from trustser.safety import AttackResult, run_attack
from trustser.sustainability import (
    EnergyResult,
    ParameterCount,
    count_flops,
    count_parameters,
    machine_signature,
    measure_energy,
)
from trustser.utility import UtilityResult, evaluate_utility


def _memoised(function):
    @wraps(function)
    def wrapper(run: BackboneRun, *args):
        memo = run.__dict__.setdefault("_results", {})
        key = (function.__name__, *args)
        if key not in memo:
            memo[key] = function(run, *args)
        return memo[key]

    return wrapper


def _stored(result_type: type, version: str, **context: object):
    """Memoise an expensive evaluation on disk, keyed by the run's content and the arguments.

    For results that take long (attacks) or cannot be repeated exactly (energy, a measurement), so a
    second audit of the same model reuses them and reports the same numbers. The result dataclass is
    stored as JSON; array fields (e.g. adversarial audio) are not kept. `context` adds what else the
    result depends on (e.g. the machine, for a measurement).
    """

    def decorator(function):
        @_memoised
        @wraps(function)
        def wrapper(run: BackboneRun, *args):
            key = content_key(step=function.__name__, version=version, run=run.fingerprint, args=args, context=context)
            path = run.cache.path("results", key, ".json")
            with run.cache.lock("results", key):
                if path.exists():
                    return _from_plain(result_type, run.cache.load_json(path))
                result = function(run, *args)
                run.cache.save_json(path, plain_details(result))
            return result

        return wrapper

    return decorator


def _from_plain(result_type: type, stored: dict):
    """Rebuild a stored result; JSON keeps NaN as null, so float fields get their NaN back."""
    values = {}
    for field in dataclasses.fields(result_type):
        if field.name in stored:
            value = stored[field.name]
            values[field.name] = float("nan") if value is None and field.type in (float, "float") else value
    return result_type(**values)


@_memoised
def utility(run: BackboneRun) -> UtilityResult:
    p = run.predictions
    return evaluate_utility(p.y_true, p.y_pred, p.fold, len(run.corpus.emotions))


@_memoised
def gender_inference(run: BackboneRun) -> AttributeInferenceResult:
    """Attacker on each encoder layer's utterance-level (time-averaged) embedding."""
    pooled = run.features.pooled().numpy()
    representations = {f"layer{i}": pooled[:, i] for i in range(pooled.shape[1])}
    return attribute_inference(
        representations, run.corpus.column("gender"), run.corpus.column("speaker"), run.folds, "gender", run.train_config.seed
    )


@_memoised
def gender_fairness(run: BackboneRun) -> FairnessResult:
    p = run.predictions
    return evaluate_fairness(p.y_true, p.y_pred, run.column("gender", p.utterance_index), len(run.corpus.emotions))


def attack_set(run: BackboneRun, per_fold: int) -> list[tuple[int, np.ndarray]]:
    """(fold, utterance indices) to attack: up to `per_fold` test utterances per fold, seeded."""
    rng = np.random.default_rng(run.train_config.seed)
    chosen = []
    for fold in run.folds:
        test = run.indices(fold.test_speakers)
        chosen.append((fold.index, np.sort(rng.permutation(test)[:per_fold])))
    return chosen


@_stored(AttackResult, version="1")
def fgsm(run: BackboneRun, budget_db: float, per_fold: int = 64) -> AttackResult:
    if not run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} is not differentiable: {run.encoder.non_differentiable_reason}")
    results = []
    for fold_index, indices in attack_set(run, per_fold):
        waves = [load_waveform(run.corpus, run.corpus.utterances[i].id, run.encoder.sample_rate) for i in indices]
        results.append(run_attack(run.waveform_model(run.folds[fold_index]), waves, run.labels[indices], budget_db))
    return _pool_attacks(results)


def _pool_attacks(results: list[AttackResult]) -> AttackResult:
    attacked = sum(r.n_attacked for r in results)
    success = sum(r.n_success for r in results)
    snrs = [r.snr_db_min for r in results]
    medians = [r.snr_db_median for r in results]
    return AttackResult(
        attack=results[0].attack,
        budget_db=results[0].budget_db,
        success_rate=success / attacked if attacked else float("nan"),
        n_attacked=attacked,
        n_success=success,
        n_total=sum(r.n_total for r in results),
        snr_db_min=float(min(snrs)),
        snr_db_median=float(np.median(medians)),
        adversarial=tuple(w for r in results for w in r.adversarial),
    )


def parameters(run: BackboneRun) -> ParameterCount:
    """Encoder and head together (the head of fold 0; every fold's head has the same size)."""
    return count_parameters(run.waveform_model(run.folds[0]))


def _probe_input(seconds: float, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    samples = int(seconds * sample_rate)
    return 0.1 * torch.randn(1, samples, generator=generator), torch.tensor([samples])


@_memoised
def gflops_per_audio_second(run: BackboneRun, seconds: float = 6.0) -> float:
    """FLOPs of one forward pass on `seconds` of audio (6 s, as the original study), per second."""
    if not run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} runs outside torch, so FlopCounterMode cannot count it: "
                            f"{run.encoder.non_differentiable_reason}")
    model = run.waveform_model(run.folds[0])
    with torch.no_grad():
        flops = count_flops(model, *_probe_input(seconds, run.encoder.sample_rate))
    return flops / 1e9 / seconds


@_stored(EnergyResult, version="1", machine=machine_signature())
def inference_energy(run: BackboneRun, country_iso_code: str, utterances: int = 32) -> EnergyResult:
    """codecarbon's estimate for end-to-end inference (waveform -> emotion) on test utterances."""
    fold = run.folds[0]
    indices = run.indices(fold.test_speakers)[:utterances]
    waves = [load_waveform(run.corpus, run.corpus.utterances[i].id, run.encoder.sample_rate) for i in indices]
    model = run.waveform_model(fold)
    audio_seconds = sum(len(w) for w in waves) / run.encoder.sample_rate

    def work() -> None:
        with torch.no_grad():
            for wave in waves:
                model(torch.as_tensor(wave)[None], torch.tensor([len(wave)]))

    return measure_energy(work, audio_seconds, country_iso_code=country_iso_code, label=run.backbone)
