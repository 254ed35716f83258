"""The campaign service: what the web pages, the JSON API and the CLI do with a campaign.

Views and commands are thin adapters over these functions: they parse their input, call one
function here and render, serialise or print the result. Functions flush but never commit: the
request or command owns the transaction.

Reads never write. A shortlist is stored derived data, rebuilt by the writes that make it stale:
creating or editing the campaign (here), review decisions (perks.review.decisions), and the
import, score and forget commands (their callers call `refresh_campaigns`); a manager can also
refresh it explicitly. Reading a campaign page, its shortlist or its export changes nothing.
No Flask here.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from perks.accounts import Page
from perks.campaigns import allocation, charts, matching, why_not
from perks.campaigns.attention import needs_attention
from perks.campaigns.export import export_csv, export_filename
from perks.campaigns.store import create_campaign, update_campaign
from perks.models import Campaign

SHORTLIST_STATUSES = ("offered", "approved", "waitlist", "dropped")


def threshold(campaign: Campaign) -> float:
    """The campaign's bot-probability threshold (perks.detection.policy decides it)."""
    from perks.detection import policy

    return policy.campaign_threshold(campaign)


def refresh(session: Session, campaign: Campaign) -> dict[str, int]:
    """Rebuild the campaign's offers and wait list (decisions kept); the status counts."""
    return allocation.refresh(session, campaign, bot_threshold=threshold(campaign))


def refresh_campaigns(session: Session, *, brand_id: int | None = None,
                      campaign_ids: list[int] | None = None) -> int:
    """Refresh the shortlists of every campaign (of one brand, or the given ids) after a write
    that changes who qualifies (import, score, forget); how many were refreshed."""
    query = select(Campaign).order_by(Campaign.id)
    if brand_id is not None:
        query = query.where(Campaign.brand_id == brand_id)
    if campaign_ids is not None:
        query = query.where(Campaign.id.in_(campaign_ids))
    campaigns = session.exec(query).scalars().all()
    for campaign in campaigns:
        refresh(session, campaign)
    return len(campaigns)


def create(*, session: Session, brand_id: int, data: dict[str, Any] | str | bytes,
           strict: bool = False) -> Campaign:
    """A new campaign of the brand, with its shortlist built (`data` as store.create_campaign
    takes it: fields, or the API's JSON body, read strictly)."""
    campaign = create_campaign(session=session, brand_id=brand_id, data=data, strict=strict)
    refresh(session, campaign)
    return campaign


def update(*, session: Session, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Save the campaign's new settings and rebuild its shortlist (decisions kept)."""
    update_campaign(session=session, campaign=campaign, data=data)
    refresh(session, campaign)
    return campaign


@dataclass
class CampaignPage:
    """Everything the campaign page shows, read without writing."""

    campaign: Campaign
    threshold: float
    funnel: matching.Funnel
    charts: charts.CampaignCharts
    counts: dict[str, int]
    page: Page
    running_state: str
    answer: why_not.WhyNot | None
    has_shortlist: bool
    attention: dict[int, str]  # approved entries that no longer qualify: account id -> why


def page_data(session: Session, campaign: Campaign, *, page: int = 1, per_page: int = 50,
              sort: str = "rank", status: str | None = None, handle: str | None = None,
              today: date | None = None) -> CampaignPage:
    """The campaign page: funnel, charts, one page of the stored shortlist, why-not."""
    today = today or datetime.now(UTC).date()
    limit = threshold(campaign)
    counts = allocation.status_counts(session, campaign)
    statuses = (status,) if status in SHORTLIST_STATUSES else None
    answer = (why_not.why_not(session, campaign, handle, bot_threshold=limit, today=today)
              if handle else None)
    return CampaignPage(
        campaign=campaign, threshold=limit,
        funnel=matching.funnel(session, campaign, bot_threshold=limit, today=today),
        charts=charts.campaign_charts(session, campaign, bot_threshold=limit, today=today),
        counts=counts,
        page=allocation.shortlist_page(session, campaign, page=page, per_page=per_page,
                                       statuses=statuses, sort=sort),
        running_state=allocation.running_state(campaign, today), answer=answer,
        has_shortlist=any(counts.values()), attention=needs_attention(session, campaign))


def shortlist(session: Session, campaign: Campaign, *, page: int = 1, per_page: int = 50,
              status: str | None = None, sort: str = "rank") -> Page:
    """One page of the stored shortlist, rows serialised for the API and `--json`."""
    result = allocation.shortlist_page(session, campaign, page=page, per_page=per_page,
                                       statuses=(status,) if status else None, sort=sort)
    result.items = [shortlist_item(row) for row in result.items]
    return result


def shortlist_item(row: Any) -> dict[str, Any]:
    """One shortlist row as the API and `perks shortlist --json` give it."""
    return {"rank": row["rank"], "status": row["status"], "account_id": row["account_id"],
            "handle": row["screen_name"], "name": row["name"], "platform": row["platform"],
            "followers": row["followers_count"], "score": row["influence_score"],
            "percentile": row["influence_percentile"], "relevance": row["relevance"],
            "bot_probability": row["bot_probability"]}


def decide(session: Session, campaign: Campaign, action: str, account_ids: list[int], *,
           user_id: int | None = None) -> allocation.Decision:
    """Approve or drop shortlist entries (recording who); AllocationError when the shortlist
    cannot take it."""
    if not account_ids:
        raise allocation.AllocationError(f"Select at least one account to {action}.")
    if action == "approve":
        return allocation.approve(session, campaign, account_ids, user_id=user_id)
    if action == "drop":
        return allocation.drop(session, campaign, account_ids, user_id=user_id)
    raise allocation.AllocationError(f"unknown action {action!r}: approve or drop")


@dataclass
class Export:
    filename: str
    chunks: Iterator[str]


def export(session: Session, campaign: Campaign, *, kind: str = "approved",
           excel: bool = False, today: date | None = None) -> Export:
    """The stored shortlist as CSV text chunks of `kind` (perks.campaigns.export.KINDS), and its
    file name: web, API and CLI alike."""
    return Export(export_filename(campaign, today or datetime.now(UTC).date(), kind=kind,
                                  excel=excel),
                  export_csv(session, campaign, kind=kind, excel=excel))


def withdraw_from_brand(*, session: Session, brand_id: int, account_id: int) -> int:
    """What a brand's admin may do with a shared-pool account: drop it from every campaign of
    the brand (kept dropped when the shortlist refreshes; free places are refilled). Erasing
    it for everyone is an operator's act (perks.privacy.forget). Returns the campaigns it left."""
    from perks.models import ShortlistEntry

    campaigns = session.exec(select(Campaign).join(
        ShortlistEntry, ShortlistEntry.campaign_id == Campaign.id).where(
        Campaign.brand_id == brand_id, ShortlistEntry.account_id == account_id,
        ShortlistEntry.status != "dropped")).scalars().all()
    for campaign in campaigns:
        allocation.drop(session, campaign, [account_id])
    session.flush()
    return len(campaigns)
