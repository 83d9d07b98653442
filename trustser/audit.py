"""From a backbone's run to each pillar's typed result: the wiring the trust tests call.

Each function takes a `BackboneRun` (and the gate's settings where the metric has some) and returns
an evaluator's frozen result; none of them judges. Results are memoised per run so that two tests
reading one evaluation (e.g. statistical parity and equality of opportunity) compute it once.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import wraps

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

from trustser.cache import atomic_path, content_key
from trustser.errors import NotApplicable
from trustser.fairness import GroupFairness, group_fairness
from trustser.features import load_waveform
from trustser.heads import EmotionHead
from trustser.pipeline import BackboneRun
from trustser.privacy import (
    AttributeInferenceResult,
    MembershipResult,
    SpeakerIdentificationResult,
    SpeakerVerificationResult,
    attribute_inference,
    member_split,
    membership_inference,
    speaker_identification,
    speaker_verification,
)
from trustser.privacy.differential_privacy import DifferentialPrivacyResult, DPConfig, compare_with_dp, train_dp_head
from trustser.report.records import plain_details
from trustser.encoders.base import pad_waveforms
from trustser.safety import AttackResult, run_attack
from trustser.safety.invariance import InvarianceBudget, InvarianceResult, invariance_search, perturb
from trustser.safety.noise import NoiseRobustnessResult, noise_robustness
from trustser.safety.transfer import transfer_attack
from trustser.sustainability import (
    EnergyResult,
    FootprintResult,
    LatencyResult,
    ModelSize,
    combined_energy,
    count_flops,
    machine_signature,
    measure_energy,
    measure_footprint,
    measure_latency,
    model_size,
)
from trustser.training import per_utterance_loss, predict_logits, train_head
from trustser.utility import UtilityResult, evaluate_utility


def _memoised(function):
    @wraps(function)
    def wrapper(run: BackboneRun, *args):
        memo = run.__dict__.setdefault("_results", {})
        key = (function.__name__, *(tuple(a) if isinstance(a, list) else a for a in args))  # lists from settings
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
    """Rebuild a stored result: JSON keeps NaN as null and tuples as lists, nested results as dicts."""
    hints = typing.get_type_hints(result_type)
    values = {}
    for field in dataclasses.fields(result_type):
        if field.name in stored:
            values[field.name] = _from_json(hints[field.name], stored[field.name])
    return result_type(**values)


def _from_json(hint, value):
    if value is None:
        return float("nan") if hint is float else None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _from_plain(hint, value)
    if origin is tuple:
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        return tuple(_from_json(item, v) for item, v in zip(items, value))
    return value


@_memoised
def utility(run: BackboneRun) -> UtilityResult:
    p = run.predictions
    return evaluate_utility(p.y_true, p.y_pred, p.fold, len(run.corpus.emotions))


EXPOSABLE = ("layers", "layer_mix", "penultimate", "posteriors")
"""What a released model can expose: encoder layers, the head's learned layer mix, its penultimate
layer, its output posteriors. A gate's `exposed` setting names those the release actually exposes."""


@_memoised
def head_representations(run: BackboneRun, batch_size: int = 64) -> dict[str, np.ndarray]:
    """[folds, utterances, dim] per head-side representation: fold f's head applied to every utterance.

    Utterances go through in order of length (less padding) and each batch through every fold's head,
    so the padded batches are built once.
    """
    heads = run.heads
    n = len(run.corpus)
    pooled = run.features.pooled()
    with torch.no_grad():
        mixes = [torch.einsum("l,nlh->nh", h.layer_weights(), (pooled - h.feature_mean) / h.feature_std) for h in heads]
        embeddings = torch.zeros(len(heads), n, heads[0].classifier.in_features)
        by_length = np.argsort(run.features.offsets.diff().numpy(), kind="stable")
        for start in range(0, n, batch_size):
            rows = by_length[start : start + batch_size]
            layers, lengths = run.features.batch(rows)
            for f, head in enumerate(heads):
                embeddings[f, rows] = head.eval().embed(layers, lengths)
        posteriors = [torch.softmax(h.classifier(e), dim=1) for h, e in zip(heads, embeddings)]
    return {
        "layer_mix": torch.stack(mixes).numpy(),  # the learned mix of time-averaged layers
        "penultimate": embeddings.numpy(),
        "posteriors": torch.stack(posteriors).numpy(),
    }


def exposed_representations(run: BackboneRun, exposed: tuple[str, ...], per_fold: bool) -> dict[str, np.ndarray]:
    """Named representations of every utterance; head-side ones per fold ([folds, n, d]) or of fold 0's head."""
    unknown = sorted(set(exposed) - set(EXPOSABLE))
    if unknown or not exposed:
        raise ValueError(f"exposed must name some of {EXPOSABLE}, got {list(exposed)}")
    representations = {}
    if "layers" in exposed:
        pooled = run.features.pooled().numpy()
        representations.update({f"layer{i}": pooled[:, i] for i in range(pooled.shape[1])})
    heads = head_representations(run)
    for kind in EXPOSABLE[1:]:
        if kind in exposed:
            representations[kind] = heads[kind] if per_fold else heads[kind][0]
    return representations


@_memoised
def gender_inference(run: BackboneRun, exposed: tuple[str, ...] = EXPOSABLE) -> AttributeInferenceResult:
    """Speaker-disjoint attacker on each exposed representation (time-averaged layers, head outputs)."""
    return attribute_inference(
        exposed_representations(run, exposed, per_fold=True), run.corpus.column("gender"), run.corpus.column("speaker"),
        run.folds, "gender", run.train_config.seed,
    )


@_memoised
def speaker_identification_attack(run: BackboneRun, exposed: tuple[str, ...] = EXPOSABLE) -> SpeakerIdentificationResult:
    """Closed-set speaker identification on the representations the released model (fold 0's head) exposes."""
    representations = exposed_representations(run, exposed, per_fold=False)
    return speaker_identification(representations, run.corpus.column("speaker"), run.train_config.seed)


@_memoised
def speaker_verification_attack(run: BackboneRun, exposed: tuple[str, ...] = EXPOSABLE) -> SpeakerVerificationResult:
    """Cosine-scoring speaker verification on the representations the released model exposes."""
    representations = exposed_representations(run, exposed, per_fold=False)
    return speaker_verification(representations, run.corpus.column("speaker"), seed=run.train_config.seed)


def membership_split(run: BackboneRun) -> tuple[np.ndarray, np.ndarray]:
    """Fold 0's training utterances halved per speaker: (members, held-out non-members)."""
    train = run.indices(run.folds[0].train_speakers)
    members, held_out = member_split(run.column("speaker", train), run.train_config.seed)
    return train[members], train[held_out]


def membership_target(run: BackboneRun) -> EmotionHead:
    """The audit's target head: the released recipe (same head, loop, early stopping) on the members only."""
    fold = run.folds[0]
    members, _ = membership_split(run)
    key = content_key(step="membership-target", head=run.head_key(fold), members=members.tolist())
    dev = run.indices(fold.dev_speakers)
    return run.cached_head(key, lambda: train_head(
        run.features, run.labels, members, dev, len(run.corpus.emotions), run.head_config, run.train_config))


def _membership_of(run: BackboneRun, head: EmotionHead) -> MembershipResult:
    members, held_out = membership_split(run)
    losses = [per_utterance_loss(head, run.features, run.labels, rows) for rows in (members, held_out)]
    return membership_inference(*losses, run.column("speaker", members), run.column("speaker", held_out), run.train_config.seed)


@_memoised
def membership(run: BackboneRun) -> MembershipResult:
    """Loss-threshold membership inference on the target head: its members vs held-out utterances."""
    return _membership_of(run, membership_target(run))


DP_SETTINGS = ("target_epsilon", "delta", "max_grad_norm", "epochs")  # the gates' DP settings, in argument order


@_stored(DifferentialPrivacyResult, version="2")
def differential_privacy(
    run: BackboneRun, target_epsilon: float, delta: float, max_grad_norm: float, epochs: int
) -> DifferentialPrivacyResult:
    """DP-SGD head on the membership target's utterances vs the target head: ε, UAR cost, advantage change."""
    fold = run.folds[0]
    members, _ = membership_split(run)
    dp_head, account = train_dp_head(
        run.features, run.labels, members, run.indices(fold.dev_speakers), len(run.corpus.emotions), run.head_config,
        run.train_config, DPConfig(target_epsilon, delta, max_grad_norm, epochs),
    )
    test = run.indices(fold.test_speakers)
    target = membership_target(run)
    uar_dp, uar_non_dp = (
        float(balanced_accuracy_score(run.labels[test], predict_logits(head, run.features, test).argmax(1).numpy()))
        for head in (dp_head, target)
    )
    return compare_with_dp(account, uar_dp, uar_non_dp, _membership_of(run, dp_head).advantage,
                           membership(run).advantage, len(members), len(test))


@_memoised
def gender_fairness(run: BackboneRun) -> GroupFairness:
    p = run.predictions
    gender, speaker = run.column("gender", p.utterance_index), run.column("speaker", p.utterance_index)
    return group_fairness(p.y_true, p.y_pred, gender, speaker, len(run.corpus.emotions), "gender", seed=run.train_config.seed)


@_memoised
def speaker_fairness(run: BackboneRun) -> GroupFairness:
    p = run.predictions
    speaker = run.column("speaker", p.utterance_index)
    return group_fairness(p.y_true, p.y_pred, speaker, speaker, len(run.corpus.emotions), "speaker", seed=run.train_config.seed)


def attack_set(run: BackboneRun, per_fold: int) -> list[tuple[int, np.ndarray]]:
    """(fold, utterance indices) to attack: up to `per_fold` test utterances per fold, seeded."""
    rng = np.random.default_rng(run.train_config.seed)
    chosen = []
    for fold in run.folds:
        test = run.indices(fold.test_speakers)
        chosen.append((fold.index, np.sort(rng.permutation(test)[:per_fold])))
    return chosen


@_stored(AttackResult, version="4")
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


@_stored(AttackResult, version="1")
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


EXAMPLES_PER_ATTACK = 3


def _attack_folds(run: BackboneRun, examples_tag: str | None, per_fold: int, attack) -> AttackResult:
    """`attack(model, waves, labels, fold)` on each fold's chosen test utterances with that fold's model, pooled.

    With an `examples_tag`, the first few successful attacks are stored as WAV pairs for listening.
    """
    results, ids = [], []
    for fold_index, indices in attack_set(run, per_fold):
        fold = run.folds[fold_index]
        waves = [load_waveform(run.corpus, run.corpus.utterances[i].id, run.encoder.sample_rate) for i in indices]
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
    the report copies them next to itself."""
    import soundfile

    folder = run.cache.root / "examples" / content_key(run=run.fingerprint, tag=tag)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for utterance_id, kind, audio in examples:
        original = load_waveform(run.corpus, utterance_id, run.encoder.sample_rate)
        for suffix, samples in (("original", original), (kind, audio)):
            with atomic_path(folder / f"{utterance_id}.{suffix}.wav") as tmp:
                soundfile.write(tmp, np.asarray(samples, dtype=np.float32), run.encoder.sample_rate, format="WAV", subtype="FLOAT")
        stored.append(str(folder / f"{utterance_id}.{kind}.wav"))
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


@_stored(NoiseRobustnessResult, version="1")
def noise_robustness_audit(run: BackboneRun, gate_snr_db: float, snrs_db: tuple[float, ...], per_fold: int) -> NoiseRobustnessResult:
    """UAR of each fold's model on up to `per_fold` of its test utterances, clean and under noise.

    Babble for an utterance is mixed from the other chosen utterances of other speakers.
    """
    chosen = attack_set(run, per_fold)
    indices = np.concatenate([i for _, i in chosen])
    fold_of = np.concatenate([np.full(len(i), f) for f, i in chosen])
    waves = [load_waveform(run.corpus, run.corpus.utterances[i].id, run.encoder.sample_rate) for i in indices]
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


@_stored(InvarianceResult, version="1")
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
        fold_waves = [load_waveform(run.corpus, u, run.encoder.sample_rate) for u in fold_ids]
        parts.append(invariance_search(predict_one, fold_waves, fold_ids, run.encoder.sample_rate, budget, max_examples))
        ids += fold_ids
        waves += fold_waves
    found = tuple(c for part in parts for c in part.counterexamples)
    by_id = dict(zip(ids, waves))
    examples = [(c.utterance_id, "perturbed", perturb(by_id[c.utterance_id], c.perturbation, run.encoder.sample_rate))
                for c in found[:EXAMPLES_PER_ATTACK]]
    return InvarianceResult(len(found) / len(ids), len(ids), len(found), max_examples, budget, found,
                            _store_examples(run, "invariance", examples))


def parameters(run: BackboneRun) -> ModelSize:
    """Encoder and head (the head of fold 0; every fold's head has the same size)."""
    return model_size(run.encoder, run.heads[0])


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


@_stored(LatencyResult, version="1", machine=machine_signature())
def inference_latency(run: BackboneRun, seconds: float = 6.0) -> LatencyResult:
    """Median wall time of end-to-end inference on `seconds` of audio, its real-time factor and peak memory.

    A measurement, stored per model and machine like energy, so repeated audits agree.
    """
    model = run.waveform_model(run.folds[0])
    waves, lengths = _probe_input(seconds, run.encoder.sample_rate)

    def once() -> None:
        with torch.no_grad():
            model(waves, lengths)

    return measure_latency(once, seconds)


@_stored(FootprintResult, version="2", machine=machine_signature())
def inference_footprint(run: BackboneRun, seconds: float = 6.0) -> FootprintResult:
    """Peak resident memory of a fresh process running end-to-end inference on `seconds` of audio."""
    fold = run.folds[0]
    run.head(fold)  # trained and stored before a child process loads it
    shape = {"num_layers": run.features.num_layers, "hidden_size": run.features.hidden_size,
             "num_classes": len(run.corpus.emotions), "config": run.head_config.as_dict()}
    return measure_footprint(run.backbone, run.cache.path("heads", run.head_key(fold)), shape, seconds)


def extraction_energy(run: BackboneRun) -> EnergyResult:
    """codecarbon's measurement of the encoder's pass over the corpus, taken when the features were built."""
    return EnergyResult(**run.features.extraction_energy)


def training_energy(run: BackboneRun) -> EnergyResult:
    """Training every fold's head, per hour of training audio, as measured when the heads were trained."""
    return combined_energy([EnergyResult(**run.training_energy(fold)) for fold in run.folds], f"train {run.backbone}")
