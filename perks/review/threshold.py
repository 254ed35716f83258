"""The threshold view: what each strictness setting means, and where the brand's pool sits.

Precision and recall are cross-collection estimates from the model card (models trained without
a research collection, measured on it; perks.detection.policy), labelled as estimates from other
data, until the brand audits a campaign's pool (perks.detection.audit). Bands count the brand's
candidates: accounts in the matched pool (topic, score, audience, privacy) of at least one of
its campaigns, each counted once.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from perks.campaigns.rules import account
from perks.detection import policy
from perks.detection.policy import STRICTNESS, curve_point
from perks.review.queue import brand_campaigns, matched_union

BANDS = tuple(round(x / 10, 1) for x in range(11))  # 0.0, 0.1, ... 1.0


@dataclass
class Setting:
    name: str
    threshold: float
    precision: float | None
    recall: float | None
    campaigns: list[str]


def threshold_view(*, session: Session, brand_id: int, detector: Any | None) -> dict[str, Any]:
    """Settings with precision/recall, and the brand's candidates per probability band."""
    campaigns = brand_campaigns(session, brand_id)
    settings: list[Setting] = []
    card = detector.card if detector is not None else {}
    curve = card.get("cross_collection_curve") or []
    if detector is not None:
        for name in STRICTNESS:
            t = float(detector.threshold_for(name))
            point = curve_point(curve, t) or {}
            settings.append(Setting(name, t, point.get("precision"), point.get("recall"), []))
    for campaign in campaigns:
        t = policy.campaign_threshold(campaign)
        match = next((s for s in settings if abs(s.threshold - t) < 1e-9), None)
        if match is None:
            point = curve_point(curve, t) or {}
            match = Setting(f"custom {campaign.bot_strictness}", t, point.get("precision"),
                            point.get("recall"), [])
            settings.append(match)
        match.campaigns.append(campaign.name)
    return {"model_version": getattr(detector, "version", None),
            "note": policy.CROSS_COLLECTION_NOTE if curve else None,
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
