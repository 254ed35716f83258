"""The threshold view: what each strictness setting means, and where the brand's pool sits.

Precision and recall come from the model card's out-of-fold curve (group-balanced: a 50% bot
prevalence; the card's note says what that means for a real pool). Bands count the brand's
candidates: accounts in the matched pool (topic, score, audience, privacy) of at least one of
its campaigns, each counted once.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from perks.campaigns.matching import bot_threshold
from perks.campaigns.rules import account
from perks.review.queue import brand_campaigns, matched_union

BANDS = tuple(round(x / 10, 1) for x in range(11))  # 0.0, 0.1, ... 1.0
STRICTNESS = ("lenient", "standard", "strict")


@dataclass
class Setting:
    name: str
    threshold: float
    precision: float | None
    recall: float | None
    campaigns: list[str]


def curve_point(card: dict[str, Any], threshold: float) -> dict[str, float] | None:
    """The card's curve point nearest to `threshold`."""
    curve = card.get("precision_recall_curve") or []
    return min(curve, key=lambda p: abs(p["threshold"] - threshold)) if curve else None


def threshold_view(*, session: Session, brand_id: int, detector: Any | None) -> dict[str, Any]:
    """Settings with precision/recall, and the brand's candidates per probability band."""
    campaigns = brand_campaigns(session, brand_id)
    settings: list[Setting] = []
    card = detector.card if detector is not None else {}
    if detector is not None:
        for name in STRICTNESS:
            t = float(detector.threshold_for(name))
            point = curve_point(card, t) or {}
            settings.append(Setting(name, t, point.get("precision"), point.get("recall"), []))
    for campaign in campaigns:
        t = bot_threshold(campaign.bot_strictness)
        match = next((s for s in settings if abs(s.threshold - t) < 1e-9), None)
        if match is None:
            point = curve_point(card, t) or {}
            match = Setting(f"custom {campaign.bot_strictness}", t, point.get("precision"),
                            point.get("recall"), [])
            settings.append(match)
        match.campaigns.append(campaign.name)
    return {"model_version": getattr(detector, "version", None),
            "note": card.get("precision_recall_note"),
            "settings": sorted(settings, key=lambda s: -s.threshold),
            "bands": band_counts(session, campaigns), "campaigns": len(campaigns)}


def band_counts(session: Session, campaigns: list) -> list[dict[str, Any]]:
    """[{low, high, accounts}] for bands of 0.1, plus an unscored row (low None)."""
    if not campaigns:
        return []
    pairs = matched_union(session, campaigns, flagged_only=False)
    candidates = select(pairs.c.account_id).distinct().subquery("candidates")
    p = account.c.bot_probability
    band = case(*[(p < high, i) for i, high in enumerate(BANDS[1:-1])], else_=len(BANDS) - 2)
    band = case((p.is_(None), -1), else_=band)
    banded = (select(band.label("band"))
              .select_from(candidates.join(account, account.c.id == candidates.c.account_id))
              .subquery("banded"))
    counts = dict(session.execute(select(banded.c.band, func.count())
                                  .group_by(banded.c.band)).all())
    rows = [{"low": BANDS[i], "high": BANDS[i + 1], "accounts": int(counts.get(i, 0))}
            for i in range(len(BANDS) - 1)]
    if counts.get(-1):
        rows.append({"low": None, "high": None, "accounts": int(counts[-1])})
    return rows
