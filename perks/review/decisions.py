"""Review decisions: one per brand and account, changed only by someone who saw the current one.

A decision is "automated" (stays out of shortlists), "genuine" (cleared: matching lets it back
in, see Conditions.cleared) or "unsure" (stays out). It belongs to the brand and covers all its
campaigns; after each change the brand's stored shortlists are refreshed so they change at once.

Optimistic locking: the caller sends the version it saw (0 for "no decision yet"). The write is
a compare-and-set on that version, so when two reviewers decide the same account the second
gets a DecisionConflict carrying the first decision and nothing is overwritten. Every change
writes one audit row with the model version and probability at the time; so does the losing
side of a conflict (outcome "lost", `before` = the decision it lost to), written before the
exception is raised: a caller that commits after catching DecisionConflict keeps it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from perks.accounts import get_account
from perks.campaigns import allocation
from perks.detection import policy
from perks.models import (
    REVIEW_DECISIONS,
    Account,
    Campaign,
    ReviewAudit,
    ReviewDecision,
    User,
    utcnow,
)

decision_table = ReviewDecision.__table__
audit_table = ReviewAudit.__table__
NOTE_MAX = 2000


class ReviewError(ValueError):
    """A decision that cannot be taken (unknown decision or account)."""


@dataclass
class Current:
    """The stored decision as a reviewer should see it."""

    account_id: int
    decision: str | None
    version: int
    note: str | None = None
    decided_by: str | None = None  # email
    decided_at: datetime | None = None

    def describe(self) -> str:
        if self.decision is None:
            return "no decision"
        who = self.decided_by or "the command line"
        when = f" at {self.decided_at:%Y-%m-%d %H:%M} UTC" if self.decided_at else ""
        note = f" (note: {self.note})" if self.note else ""
        return f"“{self.decision}” by {who}{when}{note}"


class DecisionConflict(Exception):
    """Someone changed the decision since the caller saw it; `current` is what is stored."""

    def __init__(self, current: Current, handle: str = ""):
        self.current = current
        self.handle = handle
        super().__init__(f"{handle or 'this account'} was already decided: "
                         f"{current.describe()}; your decision was not saved")


@dataclass
class BulkResult:
    decided: list[int] = field(default_factory=list)
    conflicts: list[DecisionConflict] = field(default_factory=list)


def current_decision(*, session: Session, brand_id: int, account_id: int) -> Current:
    row = session.execute(
        select(decision_table.c.decision, decision_table.c.version, decision_table.c.note,
               decision_table.c.decided_at, User.__table__.c.email)
        .select_from(decision_table.outerjoin(
            User.__table__, User.__table__.c.id == decision_table.c.decided_by))
        .where(decision_table.c.brand_id == brand_id,
               decision_table.c.account_id == account_id)).first()
    if row is None:
        return Current(account_id, None, 0)
    return Current(account_id, row.decision, int(row.version), row.note, row.email,
                   row.decided_at)


def decide(*, session: Session, brand_id: int, account_id: int, decision: str,
           note: str | None = None, user_id: int | None, expected_version: int,
           refresh: bool = True) -> Current:
    """Store `decision` if the stored version is still `expected_version`; audit it; refresh
    the brand's shortlists. Raises DecisionConflict otherwise. The caller commits."""
    if decision not in REVIEW_DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}")
    found = get_account(session, account_id, brand_id=brand_id)
    if found is None:  # another brand's list-only account is as missing as a deleted one
        raise ReviewError(f"no account with id {account_id}")
    note = (note or "").strip()[:NOTE_MAX] or None
    before = current_decision(session=session, brand_id=brand_id, account_id=account_id)
    now = utcnow()
    values = {"decision": decision, "note": note, "decided_by": user_id, "decided_at": now}
    if expected_version != before.version:
        raise _lost(session, brand_id, found, user_id, decision, note, before)
    if before.version == 0:
        try:
            with session.begin_nested():  # a concurrent first decision hits the unique key
                session.execute(insert(decision_table).values(
                    brand_id=brand_id, account_id=account_id, version=1, **values))
        except IntegrityError:
            raise _lost(session, brand_id, found, user_id, decision, note, current_decision(
                session=session, brand_id=brand_id, account_id=account_id)) from None
    else:
        written = session.execute(
            update(decision_table)
            .where(decision_table.c.brand_id == brand_id,
                   decision_table.c.account_id == account_id,
                   decision_table.c.version == expected_version)
            .values(version=decision_table.c.version + 1, **values)
            .returning(decision_table.c.id)).first()
        if written is None:
            raise _lost(session, brand_id, found, user_id, decision, note, current_decision(
                session=session, brand_id=brand_id, account_id=account_id))
    session.execute(insert(audit_table).values(
        brand_id=brand_id, account_id=account_id, account_label="@" + found.screen_name,
        user_id=user_id, at=now, before=before.decision, after=decision, note=note,
        model_version=found.bot_model_version, probability=found.bot_probability))
    if decision != "genuine":
        _drop_approvals(session=session, brand_id=brand_id, account_id=account_id)
    if refresh:
        refresh_shortlists(session=session, brand_id=brand_id)
    return current_decision(session=session, brand_id=brand_id, account_id=account_id)


def _lost(session: Session, brand_id: int, found: Account, user_id: int | None, decision: str,
          note: str | None, current: Current) -> DecisionConflict:
    """Audit the refused decision (outcome "lost") and return the conflict to raise."""
    session.execute(insert(audit_table).values(
        brand_id=brand_id, account_id=found.id, account_label="@" + found.screen_name,
        user_id=user_id, at=utcnow(), before=current.decision, after=decision, note=note,
        model_version=found.bot_model_version, probability=found.bot_probability,
        outcome="lost"))
    return DecisionConflict(current, "@" + found.screen_name)


def decide_many(*, session: Session, brand_id: int, items: list[tuple[int, int]], decision: str,
                note: str | None = None, user_id: int | None) -> BulkResult:
    """Decide several (account_id, expected_version) pairs; conflicts are collected, the rest
    stored; the shortlists are refreshed once at the end."""
    result = BulkResult()
    for account_id, expected in items:
        try:
            decide(session=session, brand_id=brand_id, account_id=account_id, decision=decision,
                   note=note, user_id=user_id, expected_version=expected, refresh=False)
        except DecisionConflict as conflict:
            result.conflicts.append(conflict)
        else:
            result.decided.append(account_id)
    if result.decided:
        refresh_shortlists(session=session, brand_id=brand_id)
    return result


def _drop_approvals(*, session: Session, brand_id: int, account_id: int) -> None:
    # Refresh keeps approvals, so a reviewer's later "automated"/"unsure" must undo them
    # itself: the account leaves the brand's shortlists and the next one is promoted.
    approved_in = session.exec(
        select(Campaign).join(allocation.entry, allocation.entry.c.campaign_id == Campaign.id)
        .where(Campaign.brand_id == brand_id, allocation.entry.c.account_id == account_id,
               allocation.entry.c.status == "approved")).scalars().all()
    for campaign in approved_in:
        allocation.drop(session, campaign, [account_id])


def refresh_shortlists(*, session: Session, brand_id: int) -> None:
    """Rebuild the offers and wait lists of every campaign of the brand (decisions kept)."""
    # By id: every writer takes the campaigns' row locks in the same order (no deadlock).
    for campaign in session.exec(select(Campaign).where(Campaign.brand_id == brand_id)
                                 .order_by(Campaign.id)).scalars():
        allocation.refresh(session, campaign, bot_threshold=policy.campaign_threshold(campaign))


def audit_trail(*, session: Session, brand_id: int, account_id: int,
                limit: int = 100) -> list[dict[str, Any]]:
    """The brand's decisions on one account, newest first, as dicts for the template include
    templates/review/_audit.html: at, who, before, after, note, model_version, probability."""
    users = User.__table__
    rows = session.execute(
        select(audit_table, users.c.email)
        .select_from(audit_table.outerjoin(users, users.c.id == audit_table.c.user_id))
        .where(audit_table.c.brand_id == brand_id, audit_table.c.account_id == account_id)
        .order_by(audit_table.c.at.desc(), audit_table.c.id.desc()).limit(limit)).mappings()
    return [{"at": r["at"], "who": r["email"] or "command line", "before": r["before"],
             "after": r["after"], "note": r["note"], "model_version": r["model_version"],
             "probability": r["probability"], "account": r["account_label"],
             "outcome": r["outcome"]} for r in rows]
