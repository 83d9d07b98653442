"""Privacy: attribute inference, speaker identification and verification, membership, DP-SGD."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

from trustser.cache.store import content_key
from trustser.compute.memory import BATCH_SLACK, release_free_memory
from trustser.errors import NotApplicable
from trustser.gates.declaration import declare_metric, finite_numbers, positive, probability, setting
from trustser.gates.measurement import Measurement
from trustser.models.head import EmotionHead
from trustser.models.training import TrainConfig, per_utterance_loss, predict_logits, train_head, within_budget
from trustser.pillars.genders import require_two_genders
from trustser.pillars.privacy import (
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
from trustser.pillars.privacy.attribute_inference import DemographicInferenceResult, most_inferable
from trustser.pillars.privacy.demographics import UNKNOWN, age_groups, demographic_columns, why_not_attackable
from trustser.pillars.privacy.differential_privacy import (
    DifferentialPrivacyResult,
    DPConfig,
    compare_with_dp,
    train_dp_head,
)
from trustser.pillars.privacy.membership import (
    MIN_NONMEMBERS,
    LowFPRMembershipResult,
    lira_scores,
    logit_confidence,
    low_fpr_membership,
    reference_splits,
)
from trustser.pillars.privacy.speakers import ATTACKERS, SELECTION_MARGIN
from trustser.run.backbone_run import BackboneRun
from trustser.run.memo import memoised, stored
from trustser.vocabulary import TASKS

EXPOSABLE = ("layers", "layer_mix", "penultimate", "posteriors")
"""What a released model can expose: encoder layers, the head's learned layer mix, its penultimate
layer, its output posteriors. A gate's `exposed` setting names those the release actually exposes."""


def _exposable(names: tuple[str, ...]) -> str | None:
    ok = names and all(n in EXPOSABLE for n in names) and len(set(names)) == len(names)
    return None if ok else f"a non-empty list of distinct names from {list(EXPOSABLE)}"


def _increasing_ages(ages: tuple[float, ...]) -> str | None:
    ok = ages and finite_numbers(ages) is None and all(a < b for a, b in zip([0, *ages], ages))
    return None if ok else "a non-empty list of increasing ages > 0"


@dataclass(frozen=True)
class ExposureSettings:
    exposed: tuple[str, ...] = setting(EXPOSABLE, rule=_exposable)


@dataclass(frozen=True)
class AgeInferenceSettings:
    exposed: tuple[str, ...] = setting(EXPOSABLE, rule=_exposable)
    age_bands: tuple[float, ...] = setting((40.0,), rule=_increasing_ages)  # cut points between age groups, years


def _attackers(names: tuple[str, ...]) -> str | None:
    ok = names and all(n in ATTACKERS for n in names) and len(set(names)) == len(names)
    return None if ok else f"a non-empty list of distinct names from {list(ATTACKERS)}"


def _reference_heads(count: int) -> str | None:
    return None if count >= 4 and count % 2 == 0 else "an even number >= 4 (complementary pairs, two at least)"


@dataclass(frozen=True)
class VerificationSettings:
    exposed: tuple[str, ...] = setting(EXPOSABLE, rule=_exposable)
    attackers: tuple[str, ...] = setting(ATTACKERS, rule=_attackers)  # "cosine" untrained, the others trained


@dataclass(frozen=True)
class ReferenceHeadSettings:
    reference_heads: int = setting(4, rule=_reference_heads)
    reference_max_epochs: int = setting(10, rule=positive)  # each reference head's epochs, at most the recipe's


@dataclass(frozen=True)
class DPSettings:
    target_epsilon: float = setting(8.0, rule=positive)
    delta: float = setting(0.0, rule=probability)  # 0: 1 / training utterances, capped at 1e-5
    max_grad_norm: float = setting(1.0, rule=positive)
    epochs: int = setting(20, rule=positive)


_ATTACKER = (
    "A standardised logistic regression trained on some speakers and tested on others (the audit's "
    "speaker-independent folds), run on every exposed representation; the gate takes the most revealing. "
)
GENDER_INFERENCE = declare_metric(
    "privacy.gender_inference_uar",
    tasks=TASKS,  # a dimensional audit's models too
    label="gender inference UAR",
    bound="max",
    default=0.75,
    definition=_ATTACKER + "Its UAR at recovering the speaker's gender; the 95% interval resamples speakers.",
    chance="1 / number of genders (0.5)",
    reference="attribute inference as in the original TrustSER study",
    settings=ExposureSettings(),
)
AGE_INFERENCE = declare_metric(
    "privacy.age_inference_uar",
    tasks=TASKS,  # a dimensional audit's models too
    label="age group inference UAR",
    bound="max",
    default=0.75,
    definition=_ATTACKER + "Its UAR at recovering the speaker's age group (ages cut at `age_bands`); skipped "
    "when the corpus documents no age.",
    chance="1 / number of age groups",
    reference="attribute inference",
    settings=AgeInferenceSettings(),
)
DEMOGRAPHIC_INFERENCE = declare_metric(
    "privacy.demographic_inference_uar",
    tasks=TASKS,  # a dimensional audit's models too
    label="demographic inference UAR (most inferable)",
    bound="max",
    default=0.75,
    definition=_ATTACKER + "Its UAR on each demographic the corpus documents (a manifest's extra columns: accent, "
    "native language, ...); the gate takes the most inferable.",
    chance="1 / number of groups of that attribute",
    reference="attribute inference",
    settings=ExposureSettings(),
)
SPEAKER_IDENTIFICATION = declare_metric(
    "privacy.speaker_id_accuracy",
    tasks=TASKS,  # a dimensional audit's models too
    label="speaker identification accuracy",
    bound="max",
    default=0.5,
    definition="Closed-set top-1 accuracy of a standardised logistic regression trained on half of each speaker's "
    "utterances and tested on the other half (then swapped), on the most revealing exposed representation.",
    chance="1 / number of speakers",
    reference="VoicePrivacy Challenge attack model (closed set)",
    settings=ExposureSettings(),
)
_VERIFIERS = (
    "The speakers are split into two halves; the trials are the same- and different-speaker pairs of utterances "
    "within a half, on every exposed representation, and every attacker scores them all: an untrained cosine "
    "scorer of standardised embeddings, and informed attackers (`attackers`) whose back-end is fitted on the other "
    "half's speakers, so that no scored speaker was seen in training: WCCN (cosine after whitening by the "
    "within-speaker covariance, Ledoit-Wolf shrunk) and two-covariance PLDA (log-likelihood ratios); and `informed`, "
    "the attacker that deploys whichever of the three wins its own validation (the other half's speakers split in "
    f"two again, one fitted and the other scored), a trained back-end only when it beats cosine there by "
    f"{SELECTION_MARGIN} EER. "
    "Each half's "
    "scores are standardised over its trials before the two are pooled. With fewer than 4 speakers the trials are "
    "all pairs and only the cosine attacker runs. "
)
SPEAKER_VERIFICATION = declare_metric(
    "privacy.speaker_verification_eer",
    tasks=TASKS,  # a dimensional audit's models too
    label="speaker verification EER",
    bound="min",
    default=0.3,
    definition=_VERIFIERS + "The gate takes the strongest attacker on the most linkable representation (the lowest "
    "EER) and names both; the 95% interval resamples speakers. Lower = more linkable.",
    chance="0.5 (the representation says nothing about identity)",
    reference="VoicePrivacy Challenge EER; an attacker trained on other speakers, after the VoicePrivacy 2022 and "
    "2024 evaluation plans (Tomashenko et al.); WCCN: Hatch, Kajarekar and Stolcke 2006; two-covariance PLDA: "
    "Brümmer and de Villiers 2010",
    settings=VerificationSettings(),
)
SPEAKER_VERIFICATION_CLLR = declare_metric(
    "privacy.speaker_verification_cllr_min",
    tasks=TASKS,  # a dimensional audit's models too
    label="speaker verification Cllr_min",
    bound="min",
    default=0.8,
    definition="The attackers of `privacy.speaker_verification_eer`, on the same trials. Cllr_min of each one's "
    "scores: the log-likelihood-ratio cost (bits) after the best monotonic calibration on those trials (PAV), "
    "which judges every operating point where the EER judges one. The gate takes the lowest over attackers and "
    "representations and names both. No interval (a PAV per resample is too slow). Equal-variance Gaussian "
    "scores give 0.80 at an EER of 0.29, 0.82 at 0.30.",
    chance="1 (the scores say nothing about identity)",
    reference="Brümmer and du Preez 2006, Cllr and its PAV minimum; the VoicePrivacy 2020 evaluation plan reports "
    "it beside the EER",
    settings=VerificationSettings(),
)
MEMBERSHIP = declare_metric(
    "privacy.membership_advantage",
    tasks=TASKS,  # a dimensional audit's models too
    label="membership inference advantage",
    bound="max",
    default=0.3,
    definition="The attacker scores each utterance by the head's negative loss (cross-entropy; for a dimensional "
    "head, the regression loss: squared error summed over the attributes); members are the head's training "
    "utterances, non-members held-out utterances of the same speakers. Advantage = max over thresholds "
    "of TPR − FPR.",
    chance="0 (no leakage)",
    reference="Yeom et al. 2018, loss-threshold membership inference",
)
MEMBERSHIP_LOW_FPR = declare_metric(
    "privacy.membership_tpr_at_1pct_fpr",
    tasks=TASKS,  # a dimensional audit's models too
    label="membership inference TPR at 1% FPR",
    bound="max",
    default=0.1,
    definition="The share of the target head's members an attacker flags while flagging at most 1% of the "
    "non-members (same members and non-members as the advantage), for the stronger of two attacks: the head's "
    "negative loss, and LiRA: `reference_heads` heads trained by the release recipe (at most "
    "`reference_max_epochs` epochs) on random halves of each speaker's candidates, in complementary pairs so each "
    "candidate is OUT for half of them; each candidate is scored by how far its logit-scaled confidence "
    "log(p / (1 − p)) (a dimensional head's: its negative squared error) under the target lies above the "
    "Gaussian of its values under the heads that did not train "
    "on it (offline LiRA, one variance pooled over candidates, each head's confidences standardised over the "
    "candidates). The gate names the attack. With fewer than 100 non-members 1% cannot be resolved and the TPR is "
    "read at one false alarm (1 / non-members, stated in the details); with fewer than 50, not at all (not "
    "applicable). TPR at 0.1% FPR is reported beside it where there are 1,000 non-members to resolve it; "
    "otherwise the details say so and give the smallest FPR the non-members resolve.",
    chance="0.01 (flags members no more often than non-members)",
    reference="Carlini et al. 2022, Membership Inference Attacks From First Principles (LiRA, offline, fixed variance)",
    settings=ReferenceHeadSettings(),
)
DP_EPSILON = declare_metric(
    "privacy.dp_epsilon",
    label="DP-SGD epsilon",
    bound="max",
    default=8.0,
    definition="The privacy budget ε at δ that opacus's RDP accountant reports for the DP-SGD head (per-sample "
    "gradients clipped to `max_grad_norm`, noise set to spend `target_epsilon` over `epochs`).",
    reference="opacus `make_private_with_epsilon`",
    settings=DPSettings(),
)
DP_UAR_COST = declare_metric(
    "privacy.dp_uar_cost",
    label="DP-SGD UAR cost",
    bound="max",
    default=0.1,
    definition="UAR of the non-private head minus UAR of the DP-SGD head, on the same test speakers.",
    chance="0 (privacy for free)",
    reference="opacus",
    settings=DPSettings(),
)


@memoised
def head_representations(run: BackboneRun, *, batch_size: int = 16) -> dict[str, np.ndarray]:
    """[folds, utterances, dim] per head-side representation: fold f's head applied to every utterance.

    Utterances go through in order of length (less padding) and each batch through every fold's head,
    so the padded batches are built once.
    """
    heads = run.heads
    n = len(run.corpus)
    with torch.no_grad():
        mixes = torch.zeros(len(heads), n, run.features.hidden_size)
        for rows, block in run.features.pooled_blocks():
            for f, head in enumerate(heads):
                standardised = (torch.from_numpy(block) - head.feature_mean) / head.feature_std
                mixes[f, rows] = torch.einsum("l,nlh->nh", head.layer_weights(), standardised)
        embeddings = torch.zeros(len(heads), n, heads[0].classifier.in_features)
        by_length = np.argsort(run.features.offsets.diff().numpy(), kind="stable")
        for start in range(0, n, batch_size):
            for rows in within_budget(by_length[start : start + batch_size], run.features):
                layers, lengths = run.features.batch(rows)
                for f, head in enumerate(heads):
                    embeddings[f, rows] = head.eval().embed(layers, lengths)
                del layers
                release_free_memory(above=BATCH_SLACK)  # as in predict_logits
        # a dimensional head's released answer is its attribute values, as they are
        answer = (lambda out: out) if run.split.dimensional else (lambda out: torch.softmax(out, dim=1))
        posteriors = [answer(h.classifier(e)) for h, e in zip(heads, embeddings)]
    return {
        "layer_mix": mixes.numpy(),  # the learned mix of time-averaged layers
        "penultimate": embeddings.numpy(),
        "posteriors": torch.stack(posteriors).numpy(),
    }


class Representations(Mapping[str, np.ndarray]):
    """Named representations, each built when it is read.

    Attackers train on one representation at a time, so the corpus's time-averaged encoder layers are
    read from the store one layer at a time instead of all being held at once.
    """

    def __init__(self, loaders: dict[str, Callable[[], np.ndarray]]):
        self._loaders = loaders

    def __getitem__(self, name: str) -> np.ndarray:
        return self._loaders[name]()

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def transformed(self, transform: Callable[[np.ndarray], np.ndarray]) -> "Representations":
        return Representations(
            {name: functools.partial(_composed, transform, load) for name, load in self._loaders.items()}
        )


def _composed(transform: Callable[[np.ndarray], np.ndarray], load: Callable[[], np.ndarray]) -> np.ndarray:
    return transform(load())


def exposed_representations(run: BackboneRun, *, exposed: tuple[str, ...], per_fold: bool) -> Representations:
    """Named representations of every utterance; head-side ones per fold ([folds, n, d]) or of fold 0's head."""
    unknown = sorted(set(exposed) - set(EXPOSABLE))
    if unknown or not exposed:
        raise ValueError(f"exposed must name some of {EXPOSABLE}, got {list(exposed)}")
    loaders: dict[str, Callable[[], np.ndarray]] = {}
    if "layers" in exposed:
        loaders.update(
            {f"layer{i}": functools.partial(run.features.pooled_layer, i) for i in range(run.features.num_layers)}
        )
    heads = head_representations(run)
    for kind in EXPOSABLE[1:]:
        if kind in exposed:
            loaders[kind] = functools.partial(_held, heads[kind] if per_fold else heads[kind][0])
    return Representations(loaders)


def _held(array: np.ndarray) -> np.ndarray:
    return array


@memoised
def gender_inference(run: BackboneRun, settings: ExposureSettings) -> AttributeInferenceResult:
    """Speaker-disjoint attacker on each exposed representation (time-averaged layers, head outputs)."""
    genders, speakers = run.corpus.column("gender"), run.corpus.column("speaker")
    require_two_genders(genders)
    reason = why_not_attackable(genders, speakers, run.folds)  # e.g. two speakers in two folds
    if reason is not None:
        raise NotApplicable(f"no gender attacker: {reason}")
    return attribute_inference(
        exposed_representations(run, exposed=settings.exposed, per_fold=True),
        genders,
        speakers,
        run.folds,
        attribute="gender",
        seed=run.train_config.seed,
    )


def _known_rows(known: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (
        x[:, known] if x.ndim == 3 else x[known]
    )  # head-side representations are [folds, n, dim], encoder layers [n, dim]


def _attack_attribute(
    run: BackboneRun, exposed: tuple[str, ...], attribute: str, values: np.ndarray
) -> AttributeInferenceResult:
    """Speaker-disjoint attacker on the utterances whose `values` are known; NotApplicable when none can be trained."""
    speakers = run.corpus.column("speaker")
    reason = why_not_attackable(values, speakers, run.folds)
    if reason is not None:
        raise NotApplicable(f"no {attribute} attacker: {reason}")
    known = values != UNKNOWN
    representations = exposed_representations(run, exposed=exposed, per_fold=True).transformed(
        functools.partial(_known_rows, known)
    )
    return attribute_inference(
        representations, values[known], speakers[known], run.folds, attribute=attribute, seed=run.train_config.seed
    )


@memoised
def age_inference(run: BackboneRun, settings: AgeInferenceSettings) -> AttributeInferenceResult:
    """Attacker recovering the speaker's age group (cut at `age_bands`, years) from the exposed representations."""
    if all(u.age is None for u in run.corpus.utterances):
        raise NotApplicable(f"corpus {run.corpus.name} documents no speaker ages")
    groups = age_groups(run.corpus.utterances, settings.age_bands)
    return _attack_attribute(run, settings.exposed, "age group", groups)


@memoised
def demographic_inference(run: BackboneRun, settings: ExposureSettings) -> DemographicInferenceResult:
    """An attacker per further demographic the corpus carries (`Utterance.demographics`); the most inferable one."""
    columns = demographic_columns(run.corpus.utterances)
    if not columns:
        raise NotApplicable(f"corpus {run.corpus.name} carries no demographics beyond gender and age")
    results, not_attacked = [], {}
    for name, values in columns.items():
        try:
            results.append(_attack_attribute(run, settings.exposed, name, values))
        except NotApplicable as reason:
            not_attacked[name] = str(reason)
    if not results:
        raise NotApplicable("; ".join(not_attacked.values()))
    return most_inferable(results, not_attacked)


@memoised
def speaker_identification_attack(run: BackboneRun, settings: ExposureSettings) -> SpeakerIdentificationResult:
    """Closed-set speaker identification on the representations the released model (fold 0's head) exposes."""
    representations = exposed_representations(run, exposed=settings.exposed, per_fold=False)
    return speaker_identification(representations, run.corpus.column("speaker"), seed=run.train_config.seed)


@memoised
def speaker_verification_attack(run: BackboneRun, settings: VerificationSettings) -> SpeakerVerificationResult:
    """Cosine-scoring and informed speaker verification on the representations the released model exposes."""
    representations = exposed_representations(run, exposed=settings.exposed, per_fold=False)
    return speaker_verification(
        representations, run.corpus.column("speaker"), attackers=settings.attackers, seed=run.train_config.seed
    )


def membership_split(run: BackboneRun) -> tuple[np.ndarray, np.ndarray]:
    """Fold 0's training utterances halved per speaker: (members, held-out non-members)."""
    if not run.can_retrain:
        raise NotApplicable(
            "membership inference and DP-SGD retrain the head on known members: it takes the finished "
            "model's training data and recipe, which the audit does not have"
        )
    train = run.split.train_rows(run.folds[0])
    members, held_out = member_split(run.split.column("speaker", train), seed=run.train_config.seed)
    return train[members], train[held_out]


def membership_target(run: BackboneRun) -> EmotionHead:
    """The audit's target head: the released recipe (same head, loop, early stopping) on the members only."""
    fold = run.folds[0]
    members, _ = membership_split(run)
    key = content_key(step="membership-target", head=run.head_key(fold), members=members.tolist())
    return _recipe_head(run, key, members, train_config=run.train_config, label="membership target head")


def _recipe_head(run: BackboneRun, key: str, rows: np.ndarray, *, train_config: TrainConfig, label: str) -> EmotionHead:
    """A head trained by the release recipe on `rows` (early-stopped on fold 0's dev rows), cached under `key`;
    `label` names it in its progress line."""
    train = functools.partial(
        train_head,
        run.features,
        run.split.targets,  # a dimensional audit's heads learn the attributes
        rows,
        run.split.dev_rows(run.folds[0]),
        num_classes=run.split.num_outputs,
        head_config=run.head_config,
        train_config=train_config,
        device=run.device,
        feature_memory=run.context.feature_memory,
        progress=lambda line: run.progress(f"{run.backbone} {label}: {line}"),
    )
    return run.cached_head(key, train)


def _membership_of(run: BackboneRun, head: EmotionHead) -> MembershipResult:
    members, held_out = membership_split(run)
    # the regression loss (squared error) for a dimensional head
    losses = [per_utterance_loss(head, run.features, run.split.targets, rows) for rows in (members, held_out)]
    return membership_inference(
        *losses, run.split.column("speaker", members), run.split.column("speaker", held_out), seed=run.train_config.seed
    )


@memoised
def membership(run: BackboneRun) -> MembershipResult:
    """Loss-threshold membership inference on the target head: its members vs held-out utterances."""
    return _membership_of(run, membership_target(run))


def reference_heads(run: BackboneRun, settings: ReferenceHeadSettings) -> list[tuple[np.ndarray, EmotionHead]]:
    """LiRA's reference heads: each trained on a half of the membership candidates (`reference_splits`) by the
    release recipe, capped at `reference_max_epochs`, with a seed of its own; trained once, cached by content."""
    fold = run.folds[0]
    pool = np.sort(np.concatenate(membership_split(run)))
    splits = reference_splits(
        run.split.column("speaker", pool), n_heads=settings.reference_heads, seed=run.train_config.seed
    )
    heads = []
    for number, positions in enumerate(splits):
        rows = pool[positions]
        recipe = dataclasses.replace(
            run.train_config,
            seed=run.train_config.seed + 1 + number,
            max_epochs=min(run.train_config.max_epochs, settings.reference_max_epochs),
        )
        key = content_key(
            step="membership-reference", head=run.head_key(fold), rows=rows.tolist(), train=recipe.as_dict()
        )
        label = f"LiRA reference head {number + 1}/{len(splits)}"
        heads.append((rows, _recipe_head(run, key, rows, train_config=recipe, label=label)))
    return heads


@memoised
def low_fpr_membership_attack(run: BackboneRun, settings: ReferenceHeadSettings) -> LowFPRMembershipResult:
    """Loss-threshold and LiRA membership inference on the target head, read at 1% and 0.1% FPR."""
    members, held_out = membership_split(run)
    pool = np.sort(np.concatenate([members, held_out]))
    labels = run.split.targets[pool]
    target = membership_target(run)

    def confidence(head: EmotionHead) -> np.ndarray:
        outputs = predict_logits(head, run.features, pool).numpy()
        if run.split.dimensional:  # a regression head's confidence: how close it comes, −squared error
            return -((outputs.astype(np.float64) - labels) ** 2).sum(1)
        return logit_confidence(outputs, labels)

    references = reference_heads(run, settings)
    scores = {
        "loss": -per_utterance_loss(target, run.features, run.split.targets, pool).astype(np.float64),
        "lira": lira_scores(
            confidence(target),
            np.stack([confidence(head) for _, head in references]),
            np.stack([np.isin(pool, rows) for rows, _ in references]),
        ),
    }
    return low_fpr_membership(
        scores,
        np.isin(pool, members),
        run.split.column("speaker", pool),
        n_reference_heads=len(references),
        seed=run.train_config.seed,
    )


@stored(DifferentialPrivacyResult, version="3")
def differential_privacy(run: BackboneRun, settings: DPSettings) -> DifferentialPrivacyResult:
    """DP-SGD head on the membership target's utterances vs the target head: ε, UAR cost, advantage change."""
    fold = run.folds[0]
    members, _ = membership_split(run)
    dp_head, account = train_dp_head(
        run.features,
        run.split.labels,
        members,
        run.split.dev_rows(fold),
        num_classes=len(run.corpus.emotions),
        head_config=run.head_config,
        train_config=run.train_config,
        dp=DPConfig(
            target_epsilon=settings.target_epsilon,
            delta=settings.delta,
            max_grad_norm=settings.max_grad_norm,
            epochs=settings.epochs,
        ),
        device=run.device,
    )
    test = run.split.test_rows(fold)
    target = membership_target(run)
    uar_dp, uar_non_dp = (
        float(
            balanced_accuracy_score(run.split.labels[test], predict_logits(head, run.features, test).argmax(1).numpy())
        )
        for head in (dp_head, target)
    )
    return compare_with_dp(
        account,
        uar_dp=uar_dp,
        uar_non_dp=uar_non_dp,
        advantage_dp=_membership_of(run, dp_head).advantage,
        advantage_non_dp=membership(run).advantage,
        n_train=len(members),
        n_test=len(test),
    )


def _attacker(result: AttributeInferenceResult | DemographicInferenceResult) -> Measurement:
    """An attribute attacker's UAR; its smallest group is counted in speakers (min_group_size, thresholds.toml)."""
    return Measurement(
        result.uar,
        n=result.n,
        interval=result.ci,
        group_size=result.min_speakers_per_group,
        speakers=result.n_speakers,
        details=result,
    )


def gender_inference_uar(run: BackboneRun, settings: ExposureSettings) -> Measurement:
    return _attacker(gender_inference(run, settings))


def age_inference_uar(run: BackboneRun, settings: AgeInferenceSettings) -> Measurement:
    return _attacker(age_inference(run, settings))


def demographic_inference_uar(run: BackboneRun, settings: ExposureSettings) -> Measurement:
    return _attacker(demographic_inference(run, settings))


def speaker_id_accuracy(run: BackboneRun, settings: ExposureSettings) -> Measurement:
    result = speaker_identification_attack(run, settings)
    return Measurement(result.accuracy, n=result.n, interval=result.ci, speakers=result.n_speakers, details=result)


def speaker_verification_eer(run: BackboneRun, settings: VerificationSettings) -> Measurement:
    result = speaker_verification_attack(run, settings)
    trials = result.n_target_trials + result.n_nontarget_trials
    return Measurement(result.eer, n=trials, interval=result.ci, speakers=result.n_speakers, details=result)


def speaker_verification_cllr_min(run: BackboneRun, settings: VerificationSettings) -> Measurement:
    result = speaker_verification_attack(run, settings)
    trials = result.n_target_trials + result.n_nontarget_trials
    return Measurement(result.cllr_min, n=trials, speakers=result.n_speakers, details=result)


def membership_advantage(run: BackboneRun) -> Measurement:
    result = membership(run)
    n = result.n_members + result.n_nonmembers
    # the members and non-members are utterances of fold 0's training speakers: its interval resamples them
    return Measurement(
        result.advantage, n=n, interval=result.ci["advantage"], speakers=result.n_speakers, details=result
    )


def membership_tpr_at_1pct_fpr(run: BackboneRun, settings: ReferenceHeadSettings) -> Measurement:
    _, held_out = membership_split(run)
    if len(held_out) < MIN_NONMEMBERS:
        raise NotApplicable(
            f"TPR at a low FPR needs {MIN_NONMEMBERS} non-members; the membership split has {len(held_out)} "
            f"(one false alarm is already {1 / max(len(held_out), 1):.1%})"
        )
    result = low_fpr_membership_attack(run, settings)
    n = result.n_members + result.n_nonmembers
    return Measurement(result.tpr_at_1pct_fpr, n=n, interval=result.ci, speakers=result.n_speakers, details=result)


def dp_epsilon(run: BackboneRun, settings: DPSettings) -> Measurement:
    result = differential_privacy(run, settings)
    return Measurement(result.epsilon, n=result.n_train, details=result)


def dp_uar_cost(run: BackboneRun, settings: DPSettings) -> Measurement:
    result = differential_privacy(run, settings)
    return Measurement(result.uar_cost, n=result.n_test, details=result)
