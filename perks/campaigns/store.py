"""Campaign rows: create, edit, list and look up, always within one brand.

Functions flush but never commit: the caller (a request or a command) owns the transaction.
"""

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from perks.detection.policy import STRICTNESS  # detection owns the vocabulary
from perks.models import Campaign, Topic, utcnow

TOPIC_MODES = ("any", "all")
SCORE_MODES = ("percentile", "absolute")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
EDITABLE = (
    "name", "perk_description", "quantity", "perk_value", "topics", "topic_mode",
    "min_topic_weight", "score_mode", "score_min", "score_max", "followers_min", "followers_max",
    "languages", "location_contains", "bot_strictness", "exclude_recent_days", "one_per_person",
    "starts_on", "ends_on", "opted_in_only", "export_bio_location",
)


class CampaignError(ValueError):
    """Campaign data that cannot be stored; the message names each problem."""


def topic_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, label) for every taxonomy topic, by label: the form's topic options."""
    return [(slug, label) for slug, label in
            session.execute(select(Topic.slug, Topic.label).order_by(Topic.label))]


def check_campaign_data(data: dict[str, Any], *, topic_slugs: set[str]) -> dict[str, Any]:
    """`data` with defaults filled in; CampaignError lists every problem (CLI and scripts).

    The web form checks the same rules field by field (perks.campaigns.forms).
    """
    out = {key: value for key, value in data.items() if key in EDITABLE}
    problems = []
    if not str(out.get("name") or "").strip():
        problems.append("name is required")
    out["name"] = str(out.get("name") or "").strip()[:200]
    out["topics"] = [t.strip().lower() for t in out.get("topics") or [] if t.strip()]
    if not out["topics"]:
        problems.append("at least one topic is required")
    unknown = sorted(set(out["topics"]) - topic_slugs)
    if unknown:
        problems.append(f"topics not in the taxonomy: {', '.join(unknown)}")
    out.setdefault("quantity", 1)
    if int(out["quantity"]) < 1:
        problems.append("quantity must be at least 1")
    if out.get("perk_value") is not None and out["perk_value"] < 0:
        problems.append("perk value cannot be negative")
    if out.setdefault("topic_mode", "any") not in TOPIC_MODES:
        problems.append("topic mode must be any or all")
    if not 0 <= out.setdefault("min_topic_weight", 0.0) <= 1:
        problems.append("minimum topic weight must be between 0 and 1")
    if out.setdefault("score_mode", "percentile") not in SCORE_MODES:
        problems.append("score mode must be percentile or absolute")
    low, high = out.setdefault("score_min", 0.0), out.setdefault("score_max", 100.0)
    if not (0 <= low <= 100 and 0 <= high <= 100) or low > high:
        problems.append("score range must lie within 0–100 with min ≤ max")
    fmin, fmax = out.get("followers_min"), out.get("followers_max")
    if (fmin is not None and fmin < 0) or (fmin is not None and fmax is not None and fmin > fmax):
        problems.append("follower range must be ≥ 0 with min ≤ max")
    out["languages"] = [x.strip().lower() for x in out.get("languages") or [] if x.strip()]
    bad = [x for x in out["languages"] if not LANGUAGE.match(x)]
    if bad:
        problems.append(f"not language codes: {', '.join(bad)}")
    strictness = str(out.setdefault("bot_strictness", "balanced"))
    if strictness not in STRICTNESS and not _is_probability(strictness):
        problems.append("bot strictness must be lenient, balanced, strict or a number 0–1")
    if (out.get("exclude_recent_days") or 0) < 0:
        problems.append("exclude-recent days cannot be negative")
    starts, ends = out.get("starts_on"), out.get("ends_on")
    if isinstance(starts, date) and isinstance(ends, date) and ends < starts:
        problems.append("end date is before the start date")
    if problems:
        raise CampaignError("; ".join(problems))
    return out


def _is_probability(text: str) -> bool:
    try:
        return 0 <= float(text) <= 1
    except ValueError:
        return False


def _topic_slugs(session: Session) -> set[str]:
    return {slug for slug, _label in topic_choices(session)}


def _check_name_free(session: Session, brand_id: int, name: str, campaign_id: int | None) -> None:
    query = select(Campaign.id).where(Campaign.brand_id == brand_id,
                                      func.lower(Campaign.name) == name.lower())
    if campaign_id is not None:
        query = query.where(Campaign.id != campaign_id)
    if session.execute(query).first():
        raise CampaignError(f"this brand already has a campaign named {name!r}")


def create_campaign(*, session: Session, brand_id: int, data: dict[str, Any]) -> Campaign:
    """A new campaign for the brand (flushed, so it has an id); CampaignError if data is bad."""
    clean = check_campaign_data(data, topic_slugs=_topic_slugs(session))
    _check_name_free(session, brand_id, clean["name"], None)
    campaign = Campaign(brand_id=brand_id, **clean)
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(*, session: Session, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Replace a campaign's settings (all of them, as the form sends); decisions stay."""
    clean = check_campaign_data(data, topic_slugs=_topic_slugs(session))
    _check_name_free(session, campaign.brand_id, clean["name"], campaign.id)
    for key, value in clean.items():
        setattr(campaign, key, value)
    campaign.updated_at = utcnow()
    session.add(campaign)
    session.flush()
    return campaign


def list_campaigns(*, session: Session, brand_id: int | None) -> list[Campaign]:
    """The brand's campaigns (every brand's when brand_id is None), newest first."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if brand_id is not None:
        query = query.where(Campaign.brand_id == brand_id)
    return list(session.exec(query).scalars())


def get_campaign(*, session: Session, brand_id: int, campaign_id: int) -> Campaign | None:
    """The campaign if it belongs to the brand; None for another brand's (views answer 404)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.brand_id != brand_id:
        return None
    return campaign


def find_campaign(*, session: Session, ref: str, brand_id: int | None = None) -> Campaign:
    """A campaign by id or by name (case-insensitive); CampaignError if none or ambiguous."""
    query = select(Campaign)
    if brand_id is not None:
        query = query.where(Campaign.brand_id == brand_id)
    if ref.isdigit():
        found = list(session.exec(query.where(Campaign.id == int(ref))).scalars())
    else:
        found = []
    if not found:
        found = list(session.exec(query.where(
            func.lower(Campaign.name) == ref.strip().lower())).scalars())
    if not found:
        raise CampaignError(f"no campaign {ref!r}")
    if len(found) > 1:
        raise CampaignError(f"{len(found)} brands have a campaign named {ref!r}: use its id")
    return found[0]
