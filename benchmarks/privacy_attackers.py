"""Informed privacy attackers on the default corpus: cosine vs informed verification, loss vs LiRA membership.

`python -m benchmarks.privacy_attackers [--cache DIR]` audits nothing: it builds the default audit's
runs (mfcc, egemaps, ge2e on the synthetic corpus, seed 0) in-process and prints, per backbone, the
EER and Cllr_min of each verification attacker on each exposed representation (the gates'
evaluation, `trustser.audit.speaker_verification_attack`), then the low-FPR membership numbers of
the loss threshold and of LiRA (`trustser.audit.low_fpr_membership_attack`), with the seconds each
step took. With a fresh `--cache` the times are those of a cold audit: the reference heads' training
is what the LiRA gate adds. Results also go to `<cache>/privacy_attackers.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from trustser import audit
from trustser.pillars.privacy.checks import ReferenceHeadSettings, VerificationSettings
from trustser.run.session import AuditSession, AuditSettings

BACKBONES = ("mfcc", "egemaps", "ge2e")


def _timed(step, *args):
    start = time.perf_counter()
    result = step(*args)
    return result, round(time.perf_counter() - start, 1)


def measure(cache: Path) -> dict:
    settings = AuditSettings(backbones=BACKBONES, corpus="synthetic", report_dir=cache / "report", cache_root=cache)
    session = AuditSession(settings, progress=lambda line: None)
    results = {}
    for backbone in BACKBONES:
        run = session.run(backbone)
        _, heads_s = _timed(getattr, run, "heads")  # extraction and the four folds' heads (the exposed head outputs)
        verification, verification_s = _timed(audit.speaker_verification_attack, run, VerificationSettings())
        _, target_s = _timed(audit.membership, run)  # the target head and the loss attack
        low_fpr, reference_s = _timed(audit.low_fpr_membership_attack, run, ReferenceHeadSettings())
        results[backbone] = {
            "seconds": {
                "features_and_fold_heads": heads_s,
                "verification": verification_s,
                "membership_target": target_s,
                "reference_heads_and_lira": reference_s,
            },
            "verification": {
                "strongest": [verification.attacker, verification.worst_representation, verification.eer],
                "cllr_min": [
                    verification.cllr_min_attacker,
                    verification.cllr_min_representation,
                    verification.cllr_min,
                ],
                "eer": verification.eer_by_attacker,
                "cllr_min_by_attacker": verification.cllr_min_by_attacker,
                "informed_backends": verification.informed_backends,
            },
            "membership": {"strongest": low_fpr.attack, "fpr": low_fpr.fpr, "by_attack": low_fpr.by_attack},
        }
        _print(backbone, results[backbone])
    return results


def _print(backbone: str, result: dict) -> None:
    print(f"## {backbone}  (seconds: {result['seconds']})")
    eers, cllrs = result["verification"]["eer"], result["verification"]["cllr_min_by_attacker"]
    columns = [f"EER {a}" for a in eers] + [f"Cllr_min {a}" for a in eers]
    print("| representation | " + " | ".join(columns) + " |")
    for representation in eers["cosine"]:
        row = [f"{eers[a][representation]:.3f}" for a in eers] + [f"{cllrs[a][representation]:.3f}" for a in eers]
        print(f"| {representation} | " + " | ".join(row) + " |")
    print("informed attacker's back-end per half:", result["verification"]["informed_backends"])
    print("strongest:", result["verification"]["strongest"], "lowest Cllr_min:", result["verification"]["cllr_min"])
    for attack, numbers in result["membership"]["by_attack"].items():
        print(f"membership {attack}: " + ", ".join(f"{k} {v:.4f}" for k, v in numbers.items()))
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cache = Path(os.environ.get("TRUSTSER_CACHE") or Path.home() / ".cache" / "trustser")
    parser.add_argument("--cache", type=Path, default=cache, help="where the runs are built (default: the audit's)")
    args = parser.parse_args()
    results = measure(args.cache)
    (args.cache / "privacy_attackers.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
