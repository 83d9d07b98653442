"""Safety: white-box, transfer, score-based black-box, noise and invariance evaluations on each fold's model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from trustser.cache import atomic_path, content_key, safe_name
from trustser.errors import NotApplicable
from trustser.features import load_waveform
from trustser.pipeline import BackboneRun
from trustser.encoders.base import pad_waveforms
from trustser.safety import AttackResult, run_attack
from trustser.safety.blackbox import BlackBoxResult, model_scores, score_based_attack
from trustser.safety.invariance import (
    InvarianceBudget,
    InvarianceResult,
    invariance_search,
    perturb,
)
from trustser.safety.noise import NoiseRobustnessResult, noise_robustness
from trustser.safety.transfer import transfer_attack
from trustser.audit.memo import stored


def attack_set(run: BackboneRun, per_fold: int) -> list[tuple[int, np.ndarray]]:
    """(fold, utterance indices) to attack: up to `per_fold` test utterances per fold, seeded."""
    rng = np.random.default_rng(run.train_config.seed)
    chosen = []
    for fold in run.folds:
        test = run.indices(fold.test_speakers)
        chosen.append((fold.index, np.sort(rng.permutation(test)[:per_fold])))
    return chosen


def waveform(run: BackboneRun, index: int) -> np.ndarray:
    """Utterance `index` at the encoder's rate, loaded once per run: every safety evaluation attacks the
    same chosen test utterances, several times over (attack curves, noise conditions)."""
    loaded = run.__dict__.setdefault("_waveforms", {})
    if index not in loaded:
        loaded[index] = load_waveform(run.corpus, run.corpus.utterances[index].id, run.encoder.sample_rate)
    return loaded[index]


@stored(AttackResult, version="4")
def white_box_attack(
    run: BackboneRun, attack_name: str, budget_db: float, per_fold: int = 64, curve_db: tuple[float, ...] = (),
    targeted: bool = False, curve_per_fold: int = 16,
) -> AttackResult:
    """`attack_name` (FGSM, PGD, PGDL2, APGD) on up to `per_fold` test utterances per fold at `budget_db`,
    each fold attacking its own model; plus the success rate at each of `curve_db` on `curve_per_fold`."""
    if not run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} is not differentiable: {run.encoder.non_differentiable_reason}; "
                            "see the transfer attack")

    def at(db: float):
        return lambda model, waves, labels, fold: run_attack(model, waves, labels, db, attack_name, targeted=targeted)

    tag = f"{'targeted-' if targeted else ''}{attack_name}@{budget_db:g}dB"
    at_budget = _attack_folds(run, tag, per_fold, at(budget_db))
    curve = tuple((float(db), _attack_folds(run, None, curve_per_fold, at(db)).success_rate) for db in curve_db)
    return dataclasses.replace(at_budget, curve=curve)


@stored(AttackResult, version="1")
def transfer_attack_audit(run: BackboneRun, attack_name: str, budget_db: float, per_fold: int, surrogate: str) -> AttackResult:
    """For a model gradients cannot reach: audio crafted on `surrogate` (same corpus, folds and head
    recipe) at the same SNR budget, played to this backbone's model of each fold."""
    if run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} is differentiable: the white-box attacks measure it directly")
    helper = run.sibling(surrogate)
    if not helper.encoder.differentiable:
        raise ValueError(f"transfer surrogate {surrogate!r} must be differentiable")
    return _attack_folds(run, f"{attack_name}-transfer-from-{surrogate}@{budget_db:g}dB", per_fold,
                         lambda model, waves, labels, fold: transfer_attack(
                             helper.waveform_model(fold), model, waves, labels, budget_db, attack_name, surrogate))


@stored(BlackBoxResult, version="1")
def black_box_attack_audit(run: BackboneRun, budget_db: float, per_fold: int, max_queries: int) -> BlackBoxResult:
    """For a model gradients cannot reach: SimBA with Gabor atoms on up to `per_fold` test utterances per
    fold, each fold's model answering only with class probabilities, `max_queries` per utterance."""
    if run.encoder.differentiable:
        raise NotApplicable(f"{run.backbone} is differentiable: the white-box attacks, which follow its gradients "
                            "within the same SNR budget, are the stronger test")
    chosen = attack_set(run, per_fold)
    indices = np.concatenate([i for _, i in chosen])
    fold_of = np.concatenate([np.full(len(i), f) for f, i in chosen])
    fold_scores = {f: model_scores(run.waveform_model(run.folds[f])) for f in np.unique(fold_of)}
    classes = len(run.corpus.emotions)

    def scores(rows: np.ndarray, waves: list[np.ndarray]) -> np.ndarray:
        """Each utterance's class probabilities from its own fold's model."""
        answered = np.empty((len(rows), classes))
        for fold, fold_score in fold_scores.items():
            mine = np.flatnonzero(fold_of[rows] == fold)
            if len(mine):
                answered[mine] = fold_score(rows[mine], [waves[m] for m in mine])
        return answered

    result = score_based_attack(scores, [waveform(run, i) for i in indices], run.labels[indices], budget_db, max_queries,
                                run.encoder.sample_rate, seed=run.train_config.seed)
    successful = [i for i, flipped in enumerate(result.flipped) if flipped][:EXAMPLES_PER_ATTACK]
    examples = [(run.corpus.utterances[indices[i]].id, "adversarial", result.adversarial[i]) for i in successful]
    return dataclasses.replace(result, examples=_store_examples(run, f"black-box@{budget_db:g}dB", examples))


EXAMPLES_PER_ATTACK = 3


def _attack_folds(run: BackboneRun, examples_tag: str | None, per_fold: int, attack) -> AttackResult:
    """`attack(model, waves, labels, fold)` on each fold's chosen test utterances with that fold's model, pooled.

    With an `examples_tag`, the first few successful attacks are stored as WAV pairs for listening.
    """
    results, ids = [], []
    for fold_index, indices in attack_set(run, per_fold):
        fold = run.folds[fold_index]
        waves = [waveform(run, i) for i in indices]
        results.append(attack(run.waveform_model(fold), waves, run.labels[indices], fold))
        ids.extend(run.corpus.utterances[i].id for i in indices)
    pooled = _pool_attacks(results)
    if examples_tag is None:
        return pooled
    successful = [i for i, flipped in enumerate(pooled.flipped) if flipped][:EXAMPLES_PER_ATTACK]
    examples = [(ids[i], "adversarial", pooled.adversarial[i]) for i in successful]
    return dataclasses.replace(pooled, examples=_store_examples(run, examples_tag, examples))


def _store_examples(run: BackboneRun, tag: str, examples: list[tuple[str, str, np.ndarray]]) -> tuple[str, ...]:
    """WAV pairs `<id>.original.wav` and `<id>.<kind>.wav` in the cache, for (id, kind, audio) examples;
    the report copies them next to itself.

    Returned as names relative to the cache root (results hold no absolute paths), with the utterance id
    made file-name safe: an id is corpus data and may contain `/` or `..`.
    """
    import soundfile

    relative = Path("examples") / content_key(run=run.fingerprint, tag=tag)
    folder = run.cache.root / relative
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for utterance_id, kind, audio in examples:
        original = load_waveform(run.corpus, utterance_id, run.encoder.sample_rate)
        name = f"{safe_name(utterance_id)}-{content_key(id=utterance_id)[:6]}"
        for suffix, samples in (("original", original), (kind, audio)):
            with atomic_path(folder / f"{name}.{suffix}.wav") as tmp:
                soundfile.write(tmp, np.asarray(samples, dtype=np.float32), run.encoder.sample_rate, format="WAV", subtype="FLOAT")
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
def noise_robustness_audit(run: BackboneRun, gate_snr_db: float, snrs_db: tuple[float, ...], per_fold: int) -> NoiseRobustnessResult:
    """UAR of each fold's model on up to `per_fold` of its test utterances, clean and under noise.

    Babble for an utterance is mixed from the other chosen utterances of other speakers.
    """
    chosen = attack_set(run, per_fold)
    indices = np.concatenate([i for _, i in chosen])
    fold_of = np.concatenate([np.full(len(i), f) for f, i in chosen])
    waves = [waveform(run, i) for i in indices]
    speakers = run.column("speaker", indices)
    sources = [[w for w, s in zip(waves, speakers) if s != speaker] for speaker in speakers]
    models = {f: run.waveform_model(run.folds[f]) for f in np.unique(fold_of)}

    def predict(batch: list[np.ndarray]) -> np.ndarray:
        predicted = np.empty(len(batch), dtype=np.int64)
        for fold, model in models.items():
            rows = np.flatnonzero(fold_of == fold)
            for start in range(0, len(rows), 16):
                part = rows[start : start + 16]
                with torch.no_grad():
                    predicted[part] = model(*pad_waveforms([batch[r] for r in part])).argmax(1).numpy()
        return predicted

    return noise_robustness(predict, waves, run.labels[indices], sources, tuple(snrs_db), gate_snr_db, run.train_config.seed)


@stored(InvarianceResult, version="1")
def invariance(run: BackboneRun, gain_db: float, shift_ms: float, noise_snr_db: float, per_fold: int, max_examples: int) -> InvarianceResult:
    """hypothesis's search for benign transformations that flip each fold's model on its test utterances."""
    budget = InvarianceBudget(gain_db, shift_ms, noise_snr_db)
    parts, ids, waves = [], [], []
    for fold_index, indices in attack_set(run, per_fold):
        model = run.waveform_model(run.folds[fold_index])

        def predict_one(wave: np.ndarray, model=model) -> int:
            with torch.no_grad():
                return int(model(torch.as_tensor(wave, dtype=torch.float32)[None], torch.tensor([len(wave)])).argmax())

        fold_ids = [run.corpus.utterances[i].id for i in indices]
        fold_waves = [waveform(run, i) for i in indices]
        parts.append(invariance_search(predict_one, fold_waves, fold_ids, run.encoder.sample_rate, budget, max_examples))
        ids += fold_ids
        waves += fold_waves
    found = tuple(c for part in parts for c in part.counterexamples)
    by_id = dict(zip(ids, waves))
    examples = [(c.utterance_id, "perturbed", perturb(by_id[c.utterance_id], c.perturbation, run.encoder.sample_rate))
                for c in found[:EXAMPLES_PER_ATTACK]]
    return InvarianceResult(len(found) / len(ids), len(ids), len(found), max_examples, budget, found,
                            _store_examples(run, "invariance", examples))
