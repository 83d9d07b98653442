"""Safety: white-box, transfer, score-based black-box, noise and invariance evaluations on each fold's model."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from trustser.cache.store import atomic_path, content_key
from trustser.compute.units_of_work import map_units
from trustser.corpora.audio import load_waveform
from trustser.corpora.folds import Fold
from trustser.encoders.base import pad_waveforms
from trustser.errors import NotApplicable, batch_of, naming_utterances
from trustser.formatting import safe_name
from trustser.gates.declaration import (
    declare_metric,
    finite,
    finite_numbers,
    non_empty,
    non_negative,
    positive,
    setting,
)
from trustser.gates.measurement import Measurement
from trustser.pillars.safety import AttackResult, run_attack
from trustser.pillars.safety.attacks import ATTACKS
from trustser.pillars.safety.blackbox import BlackBoxResult, black_box_result, model_scores, simba_search
from trustser.pillars.safety.carryover import CarryoverResult, fold_carryover
from trustser.pillars.safety.invariance import (
    InvarianceBudget,
    InvarianceResult,
    invariance_search,
    perturb,
)
from trustser.pillars.safety.noise import NoiseRobustnessResult, noise_robustness
from trustser.pillars.safety.transfer import transfer_attack
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised, stored
from trustser.run.parity import ParityRun

Result = TypeVar("Result")


def _attack(name: str) -> str | None:
    return None if name in ATTACKS else f"one of {list(ATTACKS)}"


@dataclass(frozen=True)
class AttackSettings:
    budget_db: float = setting(45.0, rule=finite)  # SNR of the perturbation, dB: higher = quieter
    per_fold: int = setting(16, rule=positive)  # test utterances attacked per fold
    curve_db: tuple[float, ...] = setting((), rule=finite_numbers)  # extra budgets for the success-vs-SNR curve


@dataclass(frozen=True)
class FGSMSettings(AttackSettings):
    """FGSM takes one gradient step: cheap enough to attack more utterances and to trace the curve."""

    per_fold: int = setting(64, rule=positive)
    curve_db: tuple[float, ...] = setting((20.0, 30.0, 40.0, 60.0), rule=finite_numbers)


@dataclass(frozen=True)
class TransferSettings:
    attack: str = setting("PGD", rule=_attack)
    budget_db: float = setting(45.0, rule=finite)
    per_fold: int = setting(32, rule=positive)
    surrogate: str = setting("mfcc", rule=non_empty)  # the differentiable encoder the audio is crafted on


@dataclass(frozen=True)
class BlackBoxSettings:
    budget_db: float = setting(45.0, rule=finite)
    per_fold: int = setting(6, rule=positive)
    max_queries: int = setting(60, rule=positive)  # model queries per utterance


@dataclass(frozen=True)
class CarryoverSettings:
    attack: str = setting("PGD", rule=_attack)
    budget_db: float = setting(45.0, rule=finite)
    per_fold: int = setting(16, rule=positive)


@dataclass(frozen=True)
class InvarianceSettings:
    gain_db: float = setting(3.0, rule=finite)  # gain changes searched within ± this
    shift_ms: float = setting(10.0, rule=non_negative)  # time shifts searched within ± this
    noise_snr_db: float = setting(40.0, rule=finite)  # white noise at least this far below the signal
    per_fold: int = setting(4, rule=positive)
    max_examples: int = setting(15, rule=positive)  # hypothesis examples per utterance


@dataclass(frozen=True)
class NoiseSettings:
    snr_db: float = setting(20.0, rule=finite)  # the gated SNR
    curve_db: tuple[float, ...] = setting((0.0, 10.0), rule=finite_numbers)  # further SNRs, reported only
    per_fold: int = setting(16, rule=positive)


_SUCCESS = (
    "Among up to `per_fold` test utterances per fold that the fold's model classifies correctly, the "
    "share whose prediction {what} under a perturbation of SNR at least `budget_db` "
    "(10·log10(Σx² / Σδ²) ≥ S, checked on every adversarial waveform). "
)
FGSM = declare_metric(
    "safety.fgsm_success_rate",
    label="FGSM success rate",
    bound="max",
    default=0.2,
    definition=_SUCCESS.format(what="changes") + "FGSM: one signed-gradient step of L∞ size ε = rms(x)·10^(−S/20).",
    chance="0",
    reference="torchattacks `FGSM`",
    settings=FGSMSettings(),
)
PGD = declare_metric(
    "safety.pgd_success_rate",
    label="PGD success rate",
    bound="max",
    default=0.2,
    definition=_SUCCESS.format(what="changes") + "PGD: projected gradient steps in the L∞ ball of that ε.",
    chance="0",
    reference="torchattacks `PGD`",
    settings=AttackSettings(),
)
PGD_L2 = declare_metric(
    "safety.pgd_l2_success_rate",
    label="PGD-L2 success rate",
    bound="max",
    default=0.2,
    definition=_SUCCESS.format(what="changes") + "PGD in the L2 ball of radius ‖x‖₂·10^(−S/20). Extended battery.",
    chance="0",
    reference="torchattacks `PGDL2`",
    settings=AttackSettings(),
)
APGD = declare_metric(
    "safety.apgd_success_rate",
    label="APGD success rate",
    bound="max",
    default=0.2,
    definition=_SUCCESS.format(what="changes") + "Auto-PGD (step size adapted, L∞). Extended battery.",
    chance="0",
    reference="torchattacks `APGD`",
    settings=AttackSettings(),
)
TARGETED_PGD = declare_metric(
    "safety.targeted_pgd_success_rate",
    label="targeted PGD success rate",
    bound="max",
    default=0.1,
    definition=_SUCCESS.format(what="becomes the attacker's target emotion") + "PGD (L∞), targeted. Extended battery.",
    chance="0",
    reference="torchattacks `PGD` (targeted mode)",
    settings=AttackSettings(),
)
TRANSFER = declare_metric(
    "safety.transfer_success_rate",
    label="transfer attack success rate",
    bound="max",
    default=0.2,
    definition=_SUCCESS.format(what="changes") + "For models gradients cannot reach: the audio is crafted white-box "
    "on a differentiable `surrogate` trained on the same folds, then played to the target unchanged.",
    chance="0",
    reference="transfer attacks (Papernot et al. 2016)",
    settings=TransferSettings(),
)
BLACK_BOX = declare_metric(
    "safety.blackbox_success_rate",
    label="score-based black-box attack success rate",
    bound="max",
    default=0.2,
    definition=_SUCCESS.format(what="changes") + "For models gradients cannot reach: SimBA with random Gabor atoms, "
    "the model answering only with class probabilities, at most `max_queries` queries per utterance.",
    chance="0",
    reference="SimBA (Guo et al. 2019)",
    settings=BlackBoxSettings(),
)
EXPORT_CARRYOVER = declare_metric(
    "safety.export_adversarial_carryover",
    label="white-box adversarial examples that still fool the export",
    bound="min",
    default=0.9,
    definition="With `--export-parity SPEC` beside `--model`: `attack` crafted white-box at `budget_db` on the "
    "differentiable one of the two (the PyTorch model), on up to `per_fold` test utterances per fold; among the "
    "adversarial waveforms that changed its correct prediction, the share the other model (the export) also gets "
    "wrong. High: the white-box results of the PyTorch model speak for the export.",
    chance="1 = every adversarial example carries over",
    reference="transfer of adversarial examples (Papernot et al. 2016) between a model and its export",
    settings=CarryoverSettings(),
)
INVARIANCE = declare_metric(
    "safety.invariance_flip_rate",
    label="flip rate under benign transformations",
    bound="max",
    default=0.1,
    definition="The share of test utterances for which hypothesis finds a benign change (gain within ±`gain_db`, "
    "shift within ±`shift_ms`, white noise `noise_snr_db` below the signal) that flips the prediction; "
    "minimal counterexamples are reported. Extended battery.",
    chance="0",
    reference="hypothesis",
    settings=InvarianceSettings(),
)
NOISE = declare_metric(
    "safety.noise_uar_drop",
    label="relative UAR drop under noise",
    bound="max",
    default=0.2,
    definition="(UAR clean − UAR noisy) / UAR clean at `snr_db`, for white, pink and babble noise scaled per "
    "utterance to that SNR; the gate takes the worst noise.",
    chance="0 (no drop)",
    reference="additive-noise robustness as in the original TrustSER study",
    settings=NoiseSettings(),
)


def attack_set(run: BackboneRun, *, per_fold: int) -> list[tuple[int, np.ndarray]]:
    """(fold, utterance indices) to attack: up to `per_fold` test utterances per fold, seeded."""
    rng = np.random.default_rng(run.train_config.seed)
    chosen = []
    for fold in run.folds:
        test = run.split.test_rows(fold)
        chosen.append((fold.index, np.sort(rng.permutation(test)[:per_fold])))
    return chosen


def waveform(run: BackboneRun, index: int) -> np.ndarray:
    """Utterance `index` at the encoder's rate, loaded once per run: every safety evaluation attacks the
    same chosen test utterances, several times over (attack curves, noise conditions)."""
    return run.waveforms.load(index)


@stored(AttackResult, version="4")
def white_box_attack(
    run: BackboneRun, settings: AttackSettings, *, attack: str, targeted: bool = False, curve_per_fold: int = 16
) -> AttackResult:
    """`attack` (FGSM, PGD, PGDL2, APGD) on up to `per_fold` test utterances per fold at `budget_db`,
    each fold attacking its own model; plus the success rate at each of `curve_db` on `curve_per_fold`."""
    if not run.encoder.differentiable:
        raise NotApplicable(
            f"{run.backbone} is not differentiable: {run.encoder.non_differentiable_reason}; see the transfer attack"
        )

    def at(db: float):
        return functools.partial(run_attack, budget_db=db, attack=attack, targeted=targeted, seed=run.train_config.seed)

    def models(fold: Fold) -> tuple:
        return (run.waveform_model(fold),)

    def tag(db: float) -> str:
        return f"{'targeted-' if targeted else ''}{attack}@{db:g}dB"

    budget_db = settings.budget_db
    at_budget = _attack_folds(
        run, tag=tag(budget_db), examples=True, per_fold=settings.per_fold, attack=at(budget_db), models=models
    )
    curve = tuple(
        (
            float(db),
            _attack_folds(
                run, tag=tag(db), examples=False, per_fold=curve_per_fold, attack=at(db), models=models
            ).success_rate,
        )
        for db in settings.curve_db
    )
    return dataclasses.replace(at_budget, curve=curve)


@stored(AttackResult, version="1")
def transfer_attack_audit(run: BackboneRun, settings: TransferSettings) -> AttackResult:
    """For a model gradients cannot reach: audio crafted on `surrogate` (same corpus, folds and head
    recipe) at the same SNR budget, played to this backbone's model of each fold."""
    if run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} is differentiable: the white-box attacks measure it directly")
    helper = run.sibling(settings.surrogate)
    if not helper.encoder.differentiable:
        raise ValueError(f"transfer surrogate {settings.surrogate!r} must be differentiable")
    return _attack_folds(
        run,
        tag=f"{settings.attack}-transfer-from-{settings.surrogate}@{settings.budget_db:g}dB",
        examples=True,
        per_fold=settings.per_fold,
        attack=functools.partial(
            transfer_attack,
            budget_db=settings.budget_db,
            attack=settings.attack,
            surrogate=settings.surrogate,
            seed=run.train_config.seed,
        ),
        models=lambda fold: (helper.waveform_model(fold), run.waveform_model(fold)),
    )


@stored(BlackBoxResult, version="1")
def black_box_attack_audit(run: BackboneRun, settings: BlackBoxSettings) -> BlackBoxResult:
    """For a model gradients cannot reach: SimBA with Gabor atoms on up to `per_fold` test utterances per
    fold, each fold's model answering only with class probabilities, `max_queries` per utterance."""
    if run.encoder.differentiable:
        raise NotApplicable(
            f"{run.backbone} is differentiable: the white-box attacks, which follow its gradients "
            "within the same SNR budget, are the stronger test"
        )
    budget_db, max_queries = settings.budget_db, settings.max_queries
    chosen = attack_set(run, per_fold=settings.per_fold)
    # each fold is one unit (trustser.compute.units_of_work): its model answers for its own test speakers only; the
    # positions in the whole list seed each utterance's search, so the split cannot change a result
    starts = np.cumsum([0] + [len(indices) for _, indices in chosen])
    units = [
        (
            model_scores(run.waveform_model(run.folds[f])),
            [waveform(run, i) for i in indices],
            run.split.labels[indices],
            np.arange(start, start + len(indices)),
        )
        for (f, indices), start in zip(chosen, starts)
    ]
    search = functools.partial(
        simba_search,
        budget_db=budget_db,
        max_queries=max_queries,
        sample_rate=run.encoder.sample_rate,
        seed=run.train_config.seed,
    )
    names = [
        f"black-box@{budget_db:g}dB on {run.backbone} fold {f} ({len(indices)} utterances)" for f, indices in chosen
    ]
    outcomes = map_units(run.executor, search, units, names=names, progress=run.progress)
    indices = np.concatenate([indices for _, indices in chosen])
    result = black_box_result(
        [wave for unit in units for wave in unit[1]],
        [wave for outcome in outcomes for wave in outcome.heard],
        run.split.labels[indices],
        before=np.concatenate([o.before for o in outcomes]),
        after=np.concatenate([o.after for o in outcomes]),
        queries=np.concatenate([o.queries for o in outcomes]),
        budget_db=budget_db,
        max_queries=max_queries,
    )
    ids = [run.corpus.utterances[i].id for i in indices]
    return dataclasses.replace(
        result, examples=_store_examples(run, f"black-box@{budget_db:g}dB", _successes(ids, result))
    )


EXAMPLES_PER_ATTACK = 3


def _chosen(run: BackboneRun, *, per_fold: int) -> tuple[np.ndarray, np.ndarray]:
    """`attack_set` flattened: the chosen utterances of every fold, and the fold of each."""
    chosen = attack_set(run, per_fold=per_fold)
    return np.concatenate([i for _, i in chosen]), np.concatenate([np.full(len(i), f) for f, i in chosen])


def _successes(ids: list[str], result) -> Iterator[tuple[str, str, np.ndarray]]:
    """(utterance id, "adversarial", audio) of each successful attack in `result`, in order."""
    return ((ids[i], "adversarial", result.adversarial[i]) for i, flipped in enumerate(result.flipped) if flipped)


def _attack_folds(
    run: BackboneRun,
    *,
    tag: str,
    examples: bool,
    per_fold: int,
    attack: Callable[..., AttackResult],
    models: Callable[[Fold], tuple],
) -> AttackResult:
    """`attack(*models(fold), waves, labels)` on each fold's chosen test utterances, pooled.

    Each fold is one unit of work for the executor (trustser.compute.units_of_work): it carries its own models,
    waveforms and seed, so the folds give the same results wherever they run. With `examples`, the
    first few successful attacks are stored as WAV pairs for listening.
    """
    chosen = attack_set(run, per_fold=per_fold)
    units = [
        (
            attack,
            _ids(run, indices),
            *models(run.folds[f]),
            [waveform(run, i) for i in indices],
            run.split.labels[indices],
        )
        for f, indices in chosen
    ]
    names = [f"{tag} on {run.backbone} fold {f} ({len(indices)} utterances)" for f, indices in chosen]
    pooled = _pool_attacks(map_units(run.executor, _naming, units, names=names, progress=run.progress))
    if not examples:
        return pooled
    ids = [utterance for _, indices in chosen for utterance in _ids(run, indices)]
    return dataclasses.replace(pooled, examples=_store_examples(run, tag, _successes(ids, pooled)))


def _ids(run: BackboneRun, indices: Iterable[int]) -> list[str]:
    return [run.corpus.utterances[i].id for i in indices]


def _store_examples(run: BackboneRun, tag: str, examples: Iterable[tuple[str, str, np.ndarray]]) -> tuple[str, ...]:
    """WAV pairs `<id>.original.wav` and `<id>.<kind>.wav` in the cache for the first EXAMPLES_PER_ATTACK
    (id, kind, audio) examples (a lazy iterable: later examples are never computed); the report copies
    them next to itself.

    Returned as names relative to the cache root (results hold no absolute paths), with the utterance id
    made file-name safe: an id is corpus data and may contain `/` or `..`.
    """
    import soundfile

    relative = Path("examples") / content_key(run=run.fingerprint, tag=tag)
    folder = run.cache.root / relative  # created by atomic_path, 0700: the files are speakers' voices
    stored = []
    for utterance_id, kind, audio in itertools.islice(examples, EXAMPLES_PER_ATTACK):
        original = load_waveform(run.corpus, utterance_id, run.encoder.sample_rate)
        name = f"{safe_name(utterance_id)}-{content_key(id=utterance_id)[:6]}"
        for suffix, samples in (("original", original), (kind, audio)):
            with atomic_path(folder / f"{name}.{suffix}.wav") as tmp:
                soundfile.write(
                    tmp, np.asarray(samples, dtype=np.float32), run.encoder.sample_rate, format="WAV", subtype="FLOAT"
                )
        stored.append(str(relative / f"{name}.{kind}.wav"))
    return tuple(stored)


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
        flipped=tuple(f for r in results for f in r.flipped),
    )


@stored(NoiseRobustnessResult, version="1")
def noise_robustness_audit(run: BackboneRun, settings: NoiseSettings) -> NoiseRobustnessResult:
    """UAR of each fold's model on up to `per_fold` of its test utterances, clean and under noise.

    Babble for an utterance is mixed from the other chosen utterances of other speakers. The noise is
    drawn here, from one seeded generator; each fold's predictions of a condition are one unit of work
    for the executor (trustser.compute.units_of_work), so where they run cannot change them.
    """
    indices, fold_of = _chosen(run, per_fold=settings.per_fold)
    waves = [waveform(run, i) for i in indices]
    speakers = run.split.column("speaker", indices)
    sources = [[w for w, s in zip(waves, speakers) if s != speaker] for speaker in speakers]
    folds = np.unique(fold_of)
    models = {f: run.waveform_model(run.folds[f]) for f in folds}
    calls = itertools.count()

    def predict(batch: list[np.ndarray]) -> np.ndarray:
        mine = [np.flatnonzero(fold_of == fold) for fold in folds]
        units = [
            (_predicted, _ids(run, indices[rows]), models[fold], [batch[m] for m in rows])
            for fold, rows in zip(folds, mine)
        ]
        condition = next(calls)  # 0: the clean audio, then each noise condition in turn
        names = [
            f"noise condition {condition} on {run.backbone} fold {f} ({len(r)} utterances)" for f, r in zip(folds, mine)
        ]
        predicted = np.empty(len(batch), dtype=np.int64)
        for rows, answer in zip(mine, map_units(run.executor, _naming, units, names=names, progress=run.progress)):
            predicted[rows] = answer
        return predicted

    return noise_robustness(
        predict,
        waves,
        run.split.labels[indices],
        sources,
        snr_db=settings.snr_db,
        curve_db=settings.curve_db,
        seed=run.train_config.seed,
    )


def _predicted(model, waves: list[np.ndarray], *, batch_size: int = 16) -> np.ndarray:
    """The model's predicted class of each waveform, `batch_size` at a time."""
    predicted = []
    for start in range(0, len(waves), batch_size):
        part = waves[start : start + batch_size]
        with torch.no_grad(), batch_of(range(start, start + len(part)), len(waves)):
            predicted.append(model(*pad_waveforms(part)).argmax(1).numpy())
    return np.concatenate(predicted) if predicted else np.empty(0, dtype=np.int64)


def _naming(function: Callable[..., Result], ids: list[str], *unit) -> Result:
    """`function(*unit)`, where a model's faulty answer names the utterances at fault: `ids` are those of the
    unit's waveforms, in order. A unit of work of its own (trustser.compute.units_of_work), so the names are
    given wherever it runs."""
    with naming_utterances(ids):
        return function(*unit)


@stored(InvarianceResult, version="1")
def invariance(run: BackboneRun, settings: InvarianceSettings) -> InvarianceResult:
    """hypothesis's search for benign transformations that flip each fold's model on its test utterances."""
    budget = InvarianceBudget(gain_db=settings.gain_db, shift_ms=settings.shift_ms, noise_snr_db=settings.noise_snr_db)
    parts, ids, waves = [], [], []
    for fold_index, indices in attack_set(run, per_fold=settings.per_fold):
        model = run.waveform_model(run.folds[fold_index])

        def predict_one(wave: np.ndarray, model=model) -> int:
            with torch.no_grad():
                return int(model(torch.as_tensor(wave, dtype=torch.float32)[None], torch.tensor([len(wave)])).argmax())

        fold_ids = [run.corpus.utterances[i].id for i in indices]
        fold_waves = [waveform(run, i) for i in indices]
        parts.append(
            invariance_search(
                predict_one,
                fold_waves,
                fold_ids,
                sample_rate=run.encoder.sample_rate,
                budget=budget,
                max_examples=settings.max_examples,
            )
        )
        ids += fold_ids
        waves += fold_waves
    found = tuple(c for part in parts for c in part.counterexamples)
    by_id = dict(zip(ids, waves))
    rate = run.encoder.sample_rate
    examples = (
        (c.utterance_id, "perturbed", perturb(by_id[c.utterance_id], c.perturbation, sample_rate=rate)) for c in found
    )
    return InvarianceResult(
        len(found) / len(ids),
        len(ids),
        len(found),
        settings.max_examples,
        budget,
        found,
        _store_examples(run, "invariance", examples),
    )


def white_box_success_rate(
    run: BackboneRun, settings: AttackSettings, *, attack: str, targeted: bool = False
) -> Measurement:
    """The success rate of a white-box `attack` (the fgsm, pgd, pgd_l2, apgd and targeted_pgd gates)."""
    result = white_box_attack(run, settings, attack=attack, targeted=targeted)
    return Measurement(result.success_rate, n=result.n_attacked, details=result)


def transfer_success_rate(run: BackboneRun, settings: TransferSettings) -> Measurement:
    result = transfer_attack_audit(run, settings)
    return Measurement(result.success_rate, n=result.n_attacked, details=result)


def blackbox_success_rate(run: BackboneRun, settings: BlackBoxSettings) -> Measurement:
    result = black_box_attack_audit(run, settings)
    return Measurement(result.success_rate, n=result.n_attacked, details=result)


def noise_uar_drop(run: BackboneRun, settings: NoiseSettings) -> Measurement:
    result = noise_robustness_audit(run, settings)
    return Measurement(result.worst_relative_drop, n=result.n, details=result)


def invariance_flip_rate(run: BackboneRun, settings: InvarianceSettings) -> Measurement:
    result = invariance(run, settings)
    return Measurement(result.flip_rate, n=result.n, details=result)


@memoised
def export_carryover(run: ParityRun, settings: CarryoverSettings) -> CarryoverResult:
    """`attack` crafted on the differentiable one of the two models, its successes played to the other."""
    pair = (run.reference, run.exported)
    crafted_on = next((r for r in pair if r.encoder.differentiable), None)
    if crafted_on is None:
        raise NotApplicable(
            f"neither {run.reference.backbone} nor {run.exported_spec} is differentiable: no white-box example "
            f"to carry over ({run.reference.encoder.non_differentiable_reason})"
        )
    played_to = pair[1] if crafted_on is pair[0] else pair[0]
    if played_to.encoder.sample_rate != crafted_on.encoder.sample_rate:
        raise ValueError(
            f"{played_to.backbone} takes {played_to.encoder.sample_rate} Hz, {crafted_on.backbone} "
            f"{crafted_on.encoder.sample_rate} Hz: not an export of it"
        )
    folds = [
        fold_carryover(
            crafted_on.waveform_model(crafted_on.folds[f]),
            played_to.waveform_model(played_to.folds[f]),
            [waveform(crafted_on, i) for i in indices],
            crafted_on.split.labels[indices],
            budget_db=settings.budget_db,
            attack=settings.attack,
            seed=crafted_on.train_config.seed,
        )
        for f, indices in attack_set(crafted_on, per_fold=settings.per_fold)
    ]
    fooled, carried = sum(f.fooled for f in folds), sum(f.carried for f in folds)
    if not fooled:
        raise NotApplicable(
            f"{settings.attack} at {settings.budget_db:g} dB fooled {crafted_on.backbone} on none of "
            f"{sum(f.attacked for f in folds)} utterances: no adversarial example to carry over"
        )
    return CarryoverResult(
        crafted_on=crafted_on.backbone,
        played_to=played_to.backbone,
        attack=settings.attack,
        budget_db=settings.budget_db,
        n_attacked=sum(f.attacked for f in folds),
        n_fooled=fooled,
        n_carried=carried,
        share=carried / fooled,
    )


def export_adversarial_carryover(run: ParityRun, settings: CarryoverSettings) -> Measurement:
    result = export_carryover(run, settings)
    return Measurement(result.share, n=result.n_fooled, details=result, note=result.note)
