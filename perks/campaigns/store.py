"""Campaign rows: create, edit, list and look up, always within one brand. What a campaign may
hold is perks.campaigns.schema's to say; this module adds what needs the database (the
taxonomy, the brand's other names).

Functions flush but never commit: the caller (a request or a command) owns the transaction.
"""

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session

from perks.campaigns.schema import STRICTNESS, CampaignFields, problems, validate_campaign
from perks.models import Campaign, Topic, utcnow
from perks.topics import current_taxonomy

__all__ = ["STRICTNESS", "CampaignError", "create_campaign", "update_campaign", "get_campaign",
           "list_campaigns", "find_campaign", "check_campaign", "topic_choices"]


class CampaignError(ValueError):
    """Campaign data that cannot be stored (`problems` maps each bad field to a plain message),
    or a campaign that cannot be found (a message, no problems)."""

    def __init__(self, problems: dict[str, str] | str):
        self.problems = problems if isinstance(problems, dict) else {}
        super().__init__(problems if isinstance(problems, str) else
                         "; ".join(f"{field}: {message}" for field, message in problems.items()))


def topic_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, label) for every taxonomy topic, by label: the form's topic options. A slug the
    taxonomy in force no longer has stays in the table (imported topics may name it) but is
    not offered."""
    current = {topic.slug for topic in current_taxonomy()}
    return [(slug, label) for slug, label in
            session.execute(select(Topic.slug, Topic.label).order_by(Topic.label))
            if slug in current]


def check_campaign(*, session: Session, brand_id: int, data: dict[str, Any] | str | bytes,
                   campaign_id: int | None = None, strict: bool = False) -> CampaignFields:
    """`data` checked against the schema (perks.campaigns.schema), the taxonomy and the brand's
    other campaign names; CampaignError lists every problem at once. JSON text is parsed
    strictly when `strict` (the API)."""
    try:
        shape = validate_campaign(data, topic_slugs=_topic_slugs(session), strict=strict)
    except ValidationError as error:
        found = problems(error)
        name = _raw(data).get("name")
        if "name" not in found and isinstance(name, str) \
                and _name_taken(session, brand_id, name.strip(), campaign_id):
            found["name"] = _taken(name.strip())
        raise CampaignError(found) from None
    if _name_taken(session, brand_id, shape.name, campaign_id):
        raise CampaignError({"name": _taken(shape.name)})
    return shape


def _topic_slugs(session: Session) -> set[str]:
    return {slug for slug, _label in topic_choices(session)}


def _raw(data: dict[str, Any] | str | bytes) -> dict[str, Any]:
    # The name of a body that failed validation, so a taken name is reported in the same round.
    if isinstance(data, dict):
        return data
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _name_taken(session: Session, brand_id: int, name: str, campaign_id: int | None) -> bool:
    query = select(Campaign.id).where(Campaign.brand_id == brand_id,
                                      func.lower(Campaign.name) == name.lower())
    if campaign_id is not None:
        query = query.where(Campaign.id != campaign_id)
    return session.execute(query).first() is not None


def _taken(name: str) -> str:
    return f"this brand already has a campaign named {name!r}"


def create_campaign(*, session: Session, brand_id: int, data: dict[str, Any] | str | bytes,
                    strict: bool = False) -> Campaign:
    """A new campaign for the brand (flushed, so it has an id); CampaignError if data is bad."""
    shape = check_campaign(session=session, brand_id=brand_id, data=data, strict=strict)
    campaign = Campaign.model_validate(shape.model_dump(), update={"brand_id": brand_id})
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(*, session: Session, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Replace a campaign's settings (all of them, as the form sends); decisions stay."""
    shape = check_campaign(session=session, brand_id=campaign.brand_id, data=data,
                           campaign_id=campaign.id)
    campaign.sqlmodel_update(shape.model_dump(), update={"updated_at": utcnow()})
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
