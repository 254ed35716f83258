"""Allocation: the ranked shortlist turned into offers, a wait list and human decisions.

The top `quantity` eligible accounts are offered, the next ones wait-listed. A manager approves
or drops; dropping frees a place and promotes the best wait-listed account. `refresh` rebuilds
offers and wait list from the current matching but keeps every approved and dropped decision:
approved accounts keep their places (and count against the quantity), dropped ones are never
offered again. The stored wait list holds max(quantity, MIN_WAITLIST) accounts; `refresh` tops
it up.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlmodel import Session

from perks.accounts.lists import visible_to_brand
from perks.campaigns.matching import ranked_shortlist
from perks.models import Account, Campaign, ShortlistEntry, utcnow

MIN_WAITLIST = 50
HOLDS_PLACE = ("offered", "approved")
entry = ShortlistEntry.__table__
campaign_table = Campaign.__table__
account = Account.__table__


class AllocationError(ValueError):
    """A decision the shortlist cannot take (e.g. approving beyond the quantity)."""


@dataclass
class Decision:
    changed: int
    promoted: list[int]  # account ids moved from the wait list to offered


def status_counts(session: Session, campaign: Campaign) -> dict[str, int]:
    counts = dict(session.execute(
        select(entry.c.status, func.count()).where(entry.c.campaign_id == campaign.id)
        .group_by(entry.c.status)).all())
    return {status: int(counts.get(status, 0))
            for status in ("offered", "approved", "waitlist", "dropped")}


def refresh(session: Session, campaign: Campaign, *, bot_threshold: float,
            today: date | None = None) -> dict[str, int]:
    """Rebuild offers and wait list from matching, keeping approved/dropped decisions."""
    _lock(session, campaign)
    decided = dict(session.execute(
        select(entry.c.account_id, entry.c.status)
        .where(entry.c.campaign_id == campaign.id, entry.c.status.in_(("approved", "dropped")))
    ).all())
    waitlist_size = max(campaign.quantity, MIN_WAITLIST)
    ranked = ranked_shortlist(session, campaign, bot_threshold=bot_threshold, today=today,
                              limit=campaign.quantity + waitlist_size + len(decided))
    slots = campaign.quantity - sum(1 for s in decided.values() if s == "approved")
    now = utcnow()
    new_rows, decided_ranks, waiting = [], [], 0
    for item in ranked:
        if item.account_id in decided:
            decided_ranks.append({"a": item.account_id, "r": item.rank, "v": item.relevance})
            continue
        if slots > 0:
            status, slots = "offered", slots - 1
        elif waiting < waitlist_size:
            status, waiting = "waitlist", waiting + 1
        else:
            break
        new_rows.append({"campaign_id": campaign.id, "account_id": item.account_id,
                         "status": status, "rank": item.rank, "relevance": item.relevance,
                         "updated_at": now})
    session.execute(delete(entry).where(entry.c.campaign_id == campaign.id,
                                        entry.c.status.in_(("offered", "waitlist"))))
    # A decided account that no longer matches keeps its decision but loses its rank.
    session.execute(update(entry).where(entry.c.campaign_id == campaign.id)
                    .values(rank=None))
    if decided_ranks:
        session.execute(
            update(entry).where(entry.c.campaign_id == campaign.id,
                                entry.c.account_id == bindparam("a"))
            .values(rank=bindparam("r"), relevance=bindparam("v")), decided_ranks)
    if new_rows:
        session.execute(insert(entry), new_rows)
    session.flush()
    return status_counts(session, campaign)


def running_state(campaign: Campaign, today: date) -> str:
    """"scheduled", "running" or "ended" by the campaign's start and end dates (inclusive)."""
    if campaign.starts_on and today < campaign.starts_on:
        return "scheduled"
    if campaign.ends_on and today > campaign.ends_on:
        return "ended"
    return "running"


def approve(session: Session, campaign: Campaign, account_ids: list[int], *,
            today: date | None = None, user_id: int | None = None) -> Decision:
    """Approve offered accounts (wait-listed ones only while a place is free).

    Perks go out only while the campaign runs: before its start the shortlist is a preview,
    after its end it is a record.
    """
    state = running_state(campaign, today or utcnow().date())
    if state != "running":
        when = (f"starts on {campaign.starts_on}" if state == "scheduled"
                else f"ended on {campaign.ends_on}")
        raise AllocationError(f"the campaign {when}: approvals are open only while it runs")
    _lock(session, campaign)
    changed = 0
    for account_id in account_ids:
        status = _status(session, campaign, account_id)
        if status == "waitlist" and _free_places(session, campaign) <= 0:
            raise AllocationError(f"all {campaign.quantity} places are taken: drop an offered "
                                  "account before approving from the wait list")
        if status in ("offered", "waitlist"):
            _set(session, campaign, [account_id], "approved", user_id=user_id)
            changed += 1
    return Decision(changed, [])


def drop(session: Session, campaign: Campaign, account_ids: list[int], *,
         user_id: int | None = None) -> Decision:
    """Drop accounts (offered, approved or waiting) and promote the best wait-listed ones."""
    _lock(session, campaign)
    ids = [a for a in account_ids if _status(session, campaign, a) not in (None, "dropped")]
    _set(session, campaign, ids, "dropped", user_id=user_id)
    return Decision(len(ids), promote(session, campaign))


def promote(session: Session, campaign: Campaign) -> list[int]:
    """Fill free places from the wait list, best rank first; returns the promoted account ids."""
    free = _free_places(session, campaign)
    if free <= 0:
        return []
    promoted = [a for (a,) in session.execute(
        select(entry.c.account_id)
        .where(entry.c.campaign_id == campaign.id, entry.c.status == "waitlist")
        .order_by(entry.c.rank.is_(None), entry.c.rank, entry.c.account_id).limit(free))]
    _set(session, campaign, promoted, "offered")
    return promoted


def _lock(session: Session, campaign: Campaign) -> None:
    """Serialise the campaign's place-taking decisions until the transaction ends.

    Approving checks the free places, then takes one: two app servers approving at once on
    PostgreSQL would both see the last place free. The row lock makes the second wait and then
    see it taken. SQLite already allows one writer at a time (FOR UPDATE is not emitted there).
    """
    session.execute(select(campaign_table.c.id).where(campaign_table.c.id == campaign.id)
                    .with_for_update())


def refill(session: Session, campaign_ids: list[int]) -> None:
    """Promote from the wait lists of these campaigns (ids from an earlier stage's write, such
    as perks.privacy.forget's); ids of campaigns gone since are skipped."""
    for campaign_id in campaign_ids:
        campaign = session.get(Campaign, campaign_id)
        if campaign is not None:
            promote(session, campaign)


def _status(session: Session, campaign: Campaign, account_id: int) -> str | None:
    return session.execute(select(entry.c.status).where(
        entry.c.campaign_id == campaign.id, entry.c.account_id == account_id)).scalar()


def _free_places(session: Session, campaign: Campaign) -> int:
    taken = session.execute(select(func.count()).where(
        entry.c.campaign_id == campaign.id, entry.c.status.in_(HOLDS_PLACE))).scalar_one()
    return campaign.quantity - int(taken)


def _set(session: Session, campaign: Campaign, account_ids: list[int], status: str, *,
         user_id: int | None = None) -> None:
    # decided_by names the person behind an approve or drop; a promotion is nobody's decision.
    if account_ids:
        session.execute(update(entry).where(entry.c.campaign_id == campaign.id,
                                            entry.c.account_id.in_(account_ids))
                        .values(status=status, updated_at=utcnow(), decided_by=user_id))
        session.flush()


SORTS = {
    "rank": (entry.c.rank.is_(None), entry.c.rank, entry.c.account_id),
    "relevance": (entry.c.relevance.desc(), entry.c.account_id),
    "followers": (account.c.followers_count.desc(), entry.c.account_id),
    "handle": (func.lower(account.c.screen_name), entry.c.account_id),
    "status": (entry.c.status, entry.c.rank.is_(None), entry.c.rank, entry.c.account_id),
}
ROW_COLUMNS = (entry.c.rank, entry.c.status, entry.c.relevance, entry.c.account_id,
               account.c.screen_name, account.c.name, account.c.platform, account.c.url,
               account.c.followers_count, account.c.influence_score,
               account.c.influence_percentile, account.c.score_version,
               account.c.score_confidence, account.c.bot_probability, account.c.bot_reasons)


def entries_query(campaign: Campaign, *, statuses: tuple[str, ...] | None = None,
                  sort: str = "rank") -> Any:
    """Shortlist rows joined with their accounts (plain rows, not objects), in `sort` order;
    only accounts the campaign's brand may see (the page, `perks shortlist`, the export)."""
    seen = visible_to_brand(account.c.id, account.c.shared, campaign.brand_id)
    query = (select(*ROW_COLUMNS).select_from(entry.join(account,
                                                         account.c.id == entry.c.account_id))
             .where(entry.c.campaign_id == campaign.id, seen)
             .order_by(*SORTS.get(sort, SORTS["rank"])))
    if statuses:
        query = query.where(entry.c.status.in_(statuses))
    return query


def shortlist_page(session: Session, campaign: Campaign, *, page: int = 1, per_page: int = 50,
                   statuses: tuple[str, ...] | None = None, sort: str = "rank"):
    """One page of the shortlist as a perks.accounts.Page of row mappings."""
    from perks.accounts import Page

    total = session.execute(select(func.count()).select_from(entries_query(
        campaign, statuses=statuses).order_by(None).subquery())).scalar_one()
    page = max(1, page)
    rows = session.execute(entries_query(campaign, statuses=statuses, sort=sort)
                           .offset((page - 1) * per_page).limit(per_page)).mappings().all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total)
