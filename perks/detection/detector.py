"""The detector: bot probability, flag, plain-word reasons and rule flags per account.

    detector = Detector.load()                     # the model in use and its card
    for result in detector.assess(accounts):       # mappings with Account column names
        result.probability, result.flagged, result.reasons, result.rule_flags

An account is flagged when its calibrated probability reaches the threshold (the card's
operating threshold, or one picked with `threshold_for(strictness)`), or when a plain rule
fires. Flagged accounts, and every account at or above `reason_floor`, get up to three reasons:
rule reasons first, then what moved the model (perks.detection.reasons).
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from perks.detection import model as _model
from perks.detection import store
from perks.detection.features import FEATURE_NAMES, compute_features
from perks.detection.reasons import (
    REASONS_PER_ACCOUNT,
    apply_rules,
    model_reasons,
    rule_candidates,
)
from perks.detection.vocabulary import STRICTNESS, normalise_strictness

__all__ = ["STRICTNESS_PRECISION", "BotAssessment", "Detector", "FEATURE_NAMES"]
REASON_FLOOR = 0.05

# Named strictness -> precision target on the card's curve (stricter flags more, less precisely).
STRICTNESS_PRECISION = dict(zip(STRICTNESS, (0.97, _model.TARGET_PRECISION, 0.8), strict=True))


@dataclass(frozen=True)
class BotAssessment:
    probability: float
    flagged: bool
    reasons: tuple[str, ...]
    rule_flags: tuple[str, ...]


class Detector:
    """A loaded model with its card. Build with `Detector.load()`."""

    def __init__(self, estimator: Any, card: Mapping[str, Any]):
        self.estimator = estimator
        self.card = card
        self.version: str = card["version"]
        self.threshold: float = float(card["threshold"])
        self._curve = sorted(card["precision_recall_curve"], key=lambda p: p["threshold"])
        self._quantiles = np.asarray(card["genuine_quantiles"]["values"], dtype=float)
        self._reason_floor: float | None = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Detector":
        """Load a model file (default: the one in use, see perks.detection.store) and the
        model_card.json beside it."""
        path = Path(path) if path is not None else store.active_model_path()
        card_path = path.parent / store.CARD_FILE
        if not path.is_file() or not card_path.is_file():
            raise FileNotFoundError(f"no bot model at {path} (with {card_path.name}); "
                                    "run `perks train`")
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if card.get("features") != list(FEATURE_NAMES):
            raise ValueError(f"{card_path}: the model was trained on other features; retrain")
        return cls(_model.load(path), card)

    def probabilities(self, accounts: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if not len(accounts):
            return np.zeros(0)
        return self._predict(compute_features(accounts))

    def _predict(self, features: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(features)[:, 1]

    def assess(self, accounts: Sequence[Mapping[str, Any]], *,
               threshold: float | None = None, explain: bool = True) -> list[BotAssessment]:
        """One assessment per account, in order. `threshold` overrides the card's;
        `explain=False` skips the model reasons (evaluation needs only the numbers)."""
        threshold = self.threshold if threshold is None else threshold
        if not len(accounts):
            return []
        features = compute_features(accounts)
        probabilities = self._predict(features)
        by_model = probabilities >= threshold
        rules = {int(i): fired for i in np.flatnonzero(rule_candidates(accounts))
                 if (fired := apply_rules(accounts[i]))}
        # Reasons down to the lowest threshold a campaign is likely to use, not only this
        # one: a strict campaign's flags then carry reasons too.
        floor = min(threshold, self.reason_floor)
        explained_rows = np.flatnonzero(probabilities >= floor) if explain else np.zeros(
            0, dtype=int)
        explained = dict(zip(explained_rows.tolist(), model_reasons(
            self._predict, features[explained_rows], probabilities[explained_rows],
            [accounts[i] for i in explained_rows], self._quantiles), strict=True))
        results = []
        for i, (probability, model_flag) in enumerate(zip(
                probabilities.round(4).tolist(), by_model.tolist(), strict=True)):
            fired = rules.get(i)
            reasons = [reason for _, reason in fired or ()]
            reasons += [r for r in explained.get(i, ()) if r not in reasons]
            results.append(BotAssessment(
                probability=probability, flagged=bool(model_flag or fired),
                reasons=tuple(reasons[:REASONS_PER_ACCOUNT]),
                rule_flags=tuple(rule_id for rule_id, _ in fired or ())))
        return results

    @property
    def reason_floor(self) -> float:
        """Accounts at or above this probability get reasons: the strict setting's threshold,
        and never above REASON_FLOOR."""
        if self._reason_floor is None:
            self._reason_floor = min(REASON_FLOOR, float(self.threshold_for("strict")))
        return self._reason_floor

    def threshold_for(self, strictness: str | float) -> float:
        """Threshold along the card's precision/recall curve; stricter means lower.

        A name ("lenient", "balanced", "strict"; "standard" is read as "balanced") aims at a
        precision (0.97, 0.9, 0.8); a number in [0, 1] is the recall wanted on the validation
        curve. Both are monotone: more strictness never raises the threshold.
        """
        if isinstance(strictness, str):
            strictness = normalise_strictness(strictness)
            if strictness not in STRICTNESS_PRECISION:
                raise ValueError(f"strictness must be one of {', '.join(STRICTNESS_PRECISION)} "
                                 "or a number between 0 and 1")
            if strictness == "balanced":
                return self.threshold
            target = STRICTNESS_PRECISION[strictness]
            meeting = [p["threshold"] for p in self._curve if p["precision"] >= target]
            return float(min(meeting)) if meeting else float(self._curve[-1]["threshold"])
        recall = float(strictness)
        if not 0.0 <= recall <= 1.0:
            raise ValueError("a numeric strictness is a recall between 0 and 1")
        reaching = [p["threshold"] for p in self._curve if p["recall"] >= recall]
        return float(max(reaching)) if reaching else float(self._curve[0]["threshold"])
