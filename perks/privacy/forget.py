"""Forget: erase an account and everything derived from it, then suppress it.

Erased: the account row and every row that points at it (topics, score snapshots, shortlist
entries, review decisions, and any table a later stage adds with a foreign key to
``account.id``), and the person link when no other account uses it. Kept as an anonymised stub:
the review audit trail (``review_audit``: account_id set to NULL, account_label "forgotten
account", the reviewer's free-text note cleared), so a brand can still show who decided what
and when. Then the account's id and handle go on the suppression list, so re-importing the
original file does not bring it back. A free place on a shortlist is refilled from the wait list.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, SQLModel

from perks.models import Account, Person
from perks.platforms import ANY_PLATFORM, canonical_platform
from perks.privacy.suppression import suppress

FORGOTTEN_LABEL = "forgotten account"
# Tables whose rows outlive the account, with the values that anonymise them.
ANONYMISE: dict[str, dict[str, Any]] = {
    "review_audit": {"account_label": FORGOTTEN_LABEL, "note": None},
}


@dataclass
class ForgetResult:
    handle: str
    accounts: int = 0  # stored accounts erased (0: only the handle was suppressed)
    erased: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    anonymised: dict[str, int] = field(default_factory=dict)  # table -> rows kept as stubs
    suppressed_keys: int = 0  # keys newly added to the suppression list

    def as_dict(self) -> dict[str, Any]:
        return {"handle": self.handle, "accounts": self.accounts, "erased": self.erased,
                "anonymised": self.anonymised, "suppressed_keys": self.suppressed_keys}


def forget_account(*, session: Session, actor: str, account: Account | None = None,
                   handle: str | None = None, platform: str | None = None,
                   reason: str = "forget") -> ForgetResult:
    """Erase `account`, or every stored account with `handle` (on `platform` when given, in any
    spelling perks.platforms knows, else on every platform), and suppress it; flushes, the
    caller commits. The handle itself is suppressed too, on `platform` or on every platform,
    whether or not it was stored, so no later file brings it back."""
    if account is None and not handle:
        raise ValueError("forget needs an account or a handle")
    if platform in (None, "", ANY_PLATFORM):
        platform = None
    if account is not None:
        targets = [account]
        shown = account.screen_name
    else:
        shown = handle.strip().lstrip("@")  # type: ignore[union-attr]
        query = select(Account).where(func.lower(Account.screen_name) == shown.lower())
        if platform:
            query = query.where(Account.platform == canonical_platform(platform))
        targets = list(session.exec(query).scalars())  # type: ignore[call-overload]
    result = ForgetResult(handle="@" + shown)
    if account is None:
        result.suppressed_keys = suppress(session=session, platform=platform or ANY_PLATFORM,
                                          handle=shown, reason=reason, actor=actor)
    if not targets:
        return result
    keys = [(a.platform, a.platform_id, a.screen_name) for a in targets]
    ids = [a.id for a in targets]
    person_ids = {a.person_id for a in targets if a.person_id is not None}
    campaign_ids = _shortlisted_campaigns(session, ids)
    _erase_dependents(session, ids, result)
    session.execute(delete(Account.__table__).where(Account.__table__.c.id.in_(ids)))
    for target in targets:
        session.expunge(target)
    _drop_unused_people(session, person_ids)
    result.accounts = len(ids)
    for acc_platform, platform_id, screen_name in keys:
        result.suppressed_keys += suppress(session=session, platform=acc_platform,
                                           platform_id=platform_id, handle=screen_name,
                                           reason=reason, actor=actor)
    _refill_shortlists(session, campaign_ids)
    session.flush()
    return result


def _account_references():
    """(table, column) for every column with a foreign key to account.id."""
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "account" and fk.column.name == "id":
                yield table, fk.parent


def _erase_dependents(session: Session, ids: list[int], result: ForgetResult) -> None:
    for table, column in _account_references():
        if table.name in ANONYMISE:
            values = {name: value for name, value in ANONYMISE[table.name].items()
                      if name in table.c}
            done = session.execute(update(table).where(column.in_(ids))
                                   .values({column.name: None, **values}))
            result.anonymised[table.name] = result.anonymised.get(table.name, 0) + done.rowcount
        else:
            done = session.execute(delete(table).where(column.in_(ids)))
            result.erased[table.name] = result.erased.get(table.name, 0) + done.rowcount


def _drop_unused_people(session: Session, person_ids: set[int]) -> None:
    if not person_ids:
        return
    still_used = set(session.execute(select(Account.person_id).where(
        Account.person_id.in_(person_ids))).scalars())
    unused = person_ids - still_used
    if unused:
        session.execute(delete(Person.__table__).where(Person.__table__.c.id.in_(unused)))


def _shortlisted_campaigns(session: Session, ids: list[int]) -> list[int]:
    from perks.models import ShortlistEntry

    return sorted(set(session.execute(select(ShortlistEntry.campaign_id).where(
        ShortlistEntry.account_id.in_(ids))).scalars()))


def _refill_shortlists(session: Session, campaign_ids: list[int]) -> None:
    from perks.campaigns.allocation import promote
    from perks.models import Campaign

    for campaign_id in campaign_ids:
        campaign = session.get(Campaign, campaign_id)
        if campaign is not None:
            promote(session, campaign)


def withdraw_from_brand(*, session: Session, brand_id: int, account_id: int) -> int:
    """What a brand's admin may do with a shared-pool account: drop it from every campaign of
    the brand (kept dropped when the shortlist refreshes; free places are refilled). Erasing
    it for everyone is an operator's act (forget_account). Returns the campaigns it left."""
    from perks.campaigns.allocation import drop
    from perks.models import Campaign, ShortlistEntry

    campaigns = session.exec(select(Campaign).join(  # type: ignore[call-overload]
        ShortlistEntry, ShortlistEntry.campaign_id == Campaign.id).where(
        Campaign.brand_id == brand_id, ShortlistEntry.account_id == account_id,
        ShortlistEntry.status != "dropped")).scalars().all()
    for campaign in campaigns:
        drop(session, campaign, [account_id])
    session.flush()
    return len(campaigns)
