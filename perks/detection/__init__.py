"""Detection stage: bot probability, flag, plain-word reasons and rule flags per account.

    from perks.detection import policy
    detector = policy.current_detector(brand_id)    # cached per process, reloads on change
    threshold = policy.threshold_for("balanced", brand_id=brand_id)

`Detector` (perks.detection.detector) loads a model file and assesses accounts; `policy` owns
the strictness vocabulary, the thresholds and the per-process detector cache; `adapt` learns
a brand's review decisions; `audit` estimates a pool's bot share from a uniform sample.
Names are imported lazily so that importing the policy does not load scikit-learn.
"""

from typing import Any

__all__ = ["STRICTNESS_PRECISION", "BotAssessment", "Detector", "FEATURE_NAMES"]


def __getattr__(name: str) -> Any:
    if name in ("STRICTNESS_PRECISION", "BotAssessment", "Detector"):
        from perks.detection import detector

        return getattr(detector, name)
    if name == "FEATURE_NAMES":
        from perks.detection.features import FEATURE_NAMES

        return FEATURE_NAMES
    raise AttributeError(f"module 'perks.detection' has no attribute {name!r}")
