"""Privacy evaluators: what representations and trained heads give away about who speaks."""

from trustser.pillars.privacy.attribute_inference import AttributeInferenceResult, attribute_inference
from trustser.pillars.privacy.membership import MembershipResult, member_split, membership_inference
from trustser.pillars.privacy.speakers import (
    SpeakerIdentificationResult,
    SpeakerVerificationResult,
    equal_error_rate,
    speaker_identification,
    speaker_verification,
)

__all__ = [
    "AttributeInferenceResult",
    "MembershipResult",
    "SpeakerIdentificationResult",
    "SpeakerVerificationResult",
    "attribute_inference",
    "equal_error_rate",
    "member_split",
    "membership_inference",
    "speaker_identification",
    "speaker_verification",
]
