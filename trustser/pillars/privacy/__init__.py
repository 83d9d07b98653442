"""Privacy evaluators: what representations and trained heads give away about who speaks."""

from trustser.pillars.privacy.attribute_inference import AttributeInferenceResult, attribute_inference
from trustser.pillars.privacy.membership import (
    LowFPRMembershipResult,
    MembershipResult,
    lira_scores,
    logit_confidence,
    low_fpr_membership,
    member_split,
    membership_inference,
    reference_splits,
)
from trustser.pillars.privacy.speakers import (
    ATTACKERS,
    SpeakerIdentificationResult,
    SpeakerVerificationResult,
    equal_error_rate,
    speaker_identification,
    speaker_verification,
)

__all__ = [
    "ATTACKERS",
    "AttributeInferenceResult",
    "LowFPRMembershipResult",
    "MembershipResult",
    "SpeakerIdentificationResult",
    "SpeakerVerificationResult",
    "attribute_inference",
    "equal_error_rate",
    "lira_scores",
    "logit_confidence",
    "low_fpr_membership",
    "member_split",
    "membership_inference",
    "reference_splits",
    "speaker_identification",
    "speaker_verification",
]
