"""Safety: can an inaudible perturbation change the predicted emotion?"""

import pytest

from trustser import audit

WHITE_BOX = {  # gate -> (torchattacks attack, targeted, in the extended battery only)
    "safety.fgsm_success_rate": ("FGSM", False, False),
    "safety.pgd_success_rate": ("PGD", False, False),
    "safety.pgd_l2_success_rate": ("PGDL2", False, True),
    "safety.apgd_success_rate": ("APGD", False, True),
    "safety.targeted_pgd_success_rate": ("PGD", True, True),
}


@pytest.mark.parametrize(
    "gate",
    [
        pytest.param(
            g,
            marks=[pytest.mark.trust(g), *([pytest.mark.deep] if deep else [])],
            id=a.lower() + ("-targeted" if t else ""),
        )
        for g, (a, t, deep) in WHITE_BOX.items()
    ],
)
def test_white_box_attack(backbone_run, trust, gate):
    attack, targeted, _ = WHITE_BOX[gate]
    s = trust.settings
    result = audit.white_box_attack(
        backbone_run,
        attack_name=attack,
        budget_db=s.budget_db,
        per_fold=s.per_fold,
        curve_db=s.curve_db,
        targeted=targeted,
    )
    trust.check(result.success_rate, n=result.n_attacked, result=result)


@pytest.mark.trust("safety.transfer_success_rate")
def test_transfer_attack(backbone_run, trust):
    s = trust.settings
    result = audit.transfer_attack_audit(
        backbone_run, attack_name=s.attack, budget_db=s.budget_db, per_fold=s.per_fold, surrogate=s.surrogate
    )
    trust.check(result.success_rate, n=result.n_attacked, result=result)


@pytest.mark.trust("safety.blackbox_success_rate")
def test_black_box_attack(backbone_run, trust):
    s = trust.settings
    result = audit.black_box_attack_audit(
        backbone_run, budget_db=s.budget_db, per_fold=s.per_fold, max_queries=s.max_queries
    )
    trust.check(result.success_rate, n=result.n_attacked, result=result)


@pytest.mark.trust("safety.noise_uar_drop")
def test_noise_robustness(backbone_run, trust):
    s = trust.settings
    result = audit.noise_robustness_audit(backbone_run, gate_snr_db=s.snr_db, snrs_db=s.curve_db, per_fold=s.per_fold)
    trust.check(result.worst_relative_drop, n=result.n, result=result)


@pytest.mark.deep
@pytest.mark.trust("safety.invariance_flip_rate")
def test_invariance(backbone_run, trust):
    s = trust.settings
    result = audit.invariance(
        backbone_run,
        gain_db=s.gain_db,
        shift_ms=s.shift_ms,
        noise_snr_db=s.noise_snr_db,
        per_fold=s.per_fold,
        max_examples=s.max_examples,
    )
    trust.check(result.flip_rate, n=result.n, result=result)
