"""The threshold policy: one strictness vocabulary, one campaign-to-threshold function, one
cached detector per process (per brand) that notices a new model and reloads it.

    threshold_for("balanced", brand_id=7)      # what the funnel, queue and charts use
    campaign_threshold(campaign)                # the same, from a campaign's own fields
    current_detector(brand_id=7)                # the bundled/trained model, with the brand's
                                                # adaptation when it has one
    brand_bot_probability(brand_id)             # SQL: this brand's bot probability of an account

Strictness is "lenient", "balanced" or "strict" ("standard", the name older model cards and
pages used, is read as "balanced"), or a number in [0, 1] used as the threshold itself (what
the pool audit's "flag at most x % of genuine accounts" writes). A process checks at most every
CHECK_SECONDS whether the active model or the brand's adaptation changed (perks.detection.store
.stamp) and reloads it, so a retrain or an adaptation reaches running web workers within
seconds, without a restart. Light to import: scikit-learn loads with the first detector.
"""

import threading
import time
from dataclasses import dataclass
from typing import Any

from perks.detection import store
from perks.detection.vocabulary import (  # noqa: F401  (re-exported)
    ALIASES,
    STRICTNESS,
    is_named,
    normalise_strictness,
)

DEFAULT_THRESHOLD = 0.5  # when no model can be loaded at all
CHECK_SECONDS = 3.0

_lock = threading.Lock()
_cache: dict[int | None, "_Entry"] = {}


@dataclass
class _Entry:
    stamp: tuple[Any, ...]
    checked: float
    detector: Any


def _load(brand_id: int | None) -> Any:
    from perks.detection.detector import Detector

    base = Detector.load()
    if brand_id is None:
        return base
    adapter = store.active_adapter(brand_id)
    if adapter is None:
        return base
    from perks.detection.stacking import AdaptedDetector

    return AdaptedDetector.from_payload(base, adapter)


def current_detector(brand_id: int | None = None) -> Any:
    """The detector for a brand (None: the base model), loaded once per process and reloaded
    when the model or the brand's adaptation changes. Raises when no model can be loaded."""
    now = time.monotonic()
    with _lock:
        entry = _cache.get(brand_id)
        if entry is not None and now - entry.checked < CHECK_SECONDS:
            return entry.detector
        current = store.stamp(brand_id)
        if entry is not None and entry.stamp == current:
            entry.checked = now
            return entry.detector
        detector = _load(brand_id)
        _cache[brand_id] = _Entry(current, now, detector)
        return detector


def detector_or_none(brand_id: int | None = None) -> Any | None:
    """current_detector, or None when no model is installed or it cannot be read."""
    try:
        return current_detector(brand_id)
    except (OSError, ValueError, LookupError):
        return None


def forget_cache() -> None:
    """Drop every cached detector (tests; a command that just wrote a model)."""
    with _lock:
        _cache.clear()


def threshold_for(strictness: str | float | None, *, brand_id: int | None = None) -> float:
    """The bot-probability threshold for a strictness; a number is used as is (clamped to
    [0, 1]); a name is placed on the model's precision/recall curve (stricter: lower).

    `brand_id` is part of the contract: today a brand's adaptation keeps the base model's
    thresholds (the stack is fitted to the brand's labels, so its probabilities stay on the
    same scale), and a brand that wants another threshold sets a number, e.g. the one its
    pool audit suggests."""
    if strictness is None or strictness == "":
        strictness = "balanced"
    if not isinstance(strictness, str) or not is_named(strictness):
        try:
            return min(1.0, max(0.0, float(strictness)))
        except (TypeError, ValueError):
            raise ValueError(f"bot strictness must be {', '.join(STRICTNESS)} or a number "
                             f"between 0 and 1, not {strictness!r}") from None
    detector = detector_or_none(None)
    if detector is None:
        return DEFAULT_THRESHOLD
    return float(detector.threshold_for(normalise_strictness(strictness)))


def campaign_threshold(campaign: Any) -> float:
    """The threshold of a campaign: its strictness, for its brand."""
    return threshold_for(campaign.bot_strictness, brand_id=campaign.brand_id)


# --- what each setting means ------------------------------------------------------------

@dataclass
class Setting:
    name: str
    threshold: float
    precision: float | None
    recall: float | None


@dataclass
class StrictnessTable:
    settings: list[Setting]
    model_version: str
    note: str  # where the precision and recall come from, and what they assume


def curve_point(curve: list[dict[str, float]], threshold: float) -> dict[str, float] | None:
    return min(curve, key=lambda p: abs(p["threshold"] - threshold)) if curve else None


CROSS_COLLECTION_NOTE = (
    "Estimates from other data: precision and recall of models trained without a research "
    "collection, measured on that collection (leave-one-collection-out), humans and bots "
    "weighted equally. Your pool may differ a lot; a pool audit measures it.")


def strictness_table(brand_id: int | None = None) -> StrictnessTable | None:
    """One row per named strictness with cross-collection precision and recall (never
    in-domain figures), or None when no model can be loaded."""
    detector = detector_or_none(brand_id)
    if detector is None:
        return None
    card = detector.card
    curve = card.get("cross_collection_curve") or []
    settings = []
    for name in STRICTNESS:
        t = float(detector.threshold_for(name))
        point = curve_point(curve, t) or {}
        settings.append(Setting(name, t, point.get("precision"), point.get("recall")))
    return StrictnessTable(settings, str(detector.version), CROSS_COLLECTION_NOTE if curve else
                           "This model's card carries no cross-collection figures.")


# --- the brand's bot probability in SQL -------------------------------------------------

def brand_bot_probability(brand_id: int) -> Any:
    """SQL for "this brand's bot probability of an account": the brand's adapted probability
    (table brand_bot_score, written by perks.detection.adapt) when it has one for the account,
    else the account's own bot_probability. NULL only when the account is unscored."""
    from sqlalchemy import func, select

    from perks.models import Account, BrandBotScore

    account, scores = Account.__table__, BrandBotScore.__table__
    adapted = (select(scores.c.probability)
               .where(scores.c.brand_id == brand_id, scores.c.account_id == account.c.id)
               .correlate(account).scalar_subquery())
    return func.coalesce(adapted, account.c.bot_probability)


def brand_is_adapted(session: Any, brand_id: int) -> bool:
    """Whether the brand has adapted probabilities stored (else the plain column suffices)."""
    from sqlalchemy import select

    from perks.models import BrandBotScore

    scores = BrandBotScore.__table__
    return session.execute(select(scores.c.account_id).where(
        scores.c.brand_id == brand_id).limit(1)).first() is not None


def brand_scores(session: Any, brand_id: int, account_ids: list[int]
                 ) -> dict[int, tuple[float, list[str]]]:
    """{account_id: (adapted probability, reasons)} for those of `account_ids` the brand's
    adaptation changed; the others keep the account's own probability and reasons."""
    if not account_ids:
        return {}
    from sqlalchemy import select

    from perks.models import BrandBotScore

    scores = BrandBotScore.__table__
    rows = session.execute(select(scores.c.account_id, scores.c.probability, scores.c.reasons)
                           .where(scores.c.brand_id == brand_id,
                                  scores.c.account_id.in_(account_ids)))
    return {int(a): (float(p), list(r or [])) for a, p, r in rows}
