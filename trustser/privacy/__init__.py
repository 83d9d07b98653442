"""Privacy evaluators: what representations give away about who speaks."""

from trustser.privacy.attribute_inference import AttributeInferenceResult, attribute_inference

__all__ = ["AttributeInferenceResult", "attribute_inference"]
