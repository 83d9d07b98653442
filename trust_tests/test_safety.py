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
    trust.check(audit.white_box_success_rate(backbone_run, trust.settings, attack=attack, targeted=targeted))


@pytest.mark.trust("safety.transfer_success_rate")
def test_transfer_attack(backbone_run, trust):
    trust.check(audit.transfer_success_rate(backbone_run, trust.settings))


@pytest.mark.trust("safety.blackbox_success_rate")
def test_black_box_attack(backbone_run, trust):
    trust.check(audit.blackbox_success_rate(backbone_run, trust.settings))


@pytest.mark.trust("safety.noise_uar_drop")
def test_noise_robustness(backbone_run, trust):
    trust.check(audit.noise_uar_drop(backbone_run, trust.settings))


@pytest.mark.deep
@pytest.mark.trust("safety.invariance_flip_rate")
def test_invariance(backbone_run, trust):
    trust.check(audit.invariance_flip_rate(backbone_run, trust.settings))


# --export-parity: do the --model model's white-box adversarial examples still fool its export?
@pytest.mark.trust("safety.export_adversarial_carryover")
def test_export_adversarial_carryover(parity_run, trust):
    trust.check(audit.export_adversarial_carryover(parity_run, trust.settings))


# Dimensional models (--task dimensional): attacks that move an attribute prediction by a margin, and noise.
@pytest.mark.trust("safety.fgsm_shift_success_rate")
def test_fgsm_shift(backbone_run, trust):
    trust.check(audit.fgsm_shift_success_rate(backbone_run, trust.settings))


@pytest.mark.trust("safety.pgd_shift_success_rate")
def test_pgd_shift(backbone_run, trust):
    trust.check(audit.pgd_shift_success_rate(backbone_run, trust.settings))


@pytest.mark.trust("safety.transfer_shift_success_rate")
def test_transfer_shift(backbone_run, trust):
    trust.check(audit.transfer_shift_success_rate(backbone_run, trust.settings))


@pytest.mark.trust("safety.blackbox_shift_success_rate")
def test_black_box_shift(backbone_run, trust):
    trust.check(audit.blackbox_shift_success_rate(backbone_run, trust.settings))


@pytest.mark.trust("safety.noise_ccc_drop")
def test_noise_ccc_drop(backbone_run, trust):
    trust.check(audit.noise_ccc_drop(backbone_run, trust.settings))
