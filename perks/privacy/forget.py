"""Forget: erase an account and everything derived from it, then suppress it.

Erased: the account row and every row that points at it (topics, score snapshots, shortlist
entries, review decisions, and any table a later stage adds with a foreign key to
``account.id``), and the person link when no other account uses it. Kept as an anonymised stub:
the review audit trail (``review_audit``: account_id set to NULL, account_label "forgotten
account", the reviewer's free-text note cleared), so a brand can still show who decided what
and when. Then the account's id and handle go on the suppression list, so re-importing the
original file does not bring it back. The campaigns whose shortlists lost an entry are returned,
and the caller refills them (perks.campaigns.allocation.refill): privacy sits before the
campaign stage in the flow and does not call up into it.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, SQLModel

from perks.models import Account, Person, ShortlistEntry
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
    account_ids: list[int] = field(default_factory=list)  # the erased accounts' former ids
    campaign_ids: list[int] = field(default_factory=list)  # shortlists that lost an entry

    def as_dict(self) -> dict[str, Any]:
        return {"handle": self.handle, "accounts": self.accounts, "erased": self.erased,
                "anonymised": self.anonymised, "suppressed_keys": self.suppressed_keys}


def forget_account(*, session: Session, actor: str, account: Account | None = None,
                   handle: str | None = None, platform: str | None = None,
                   reason: str = "forget") -> ForgetResult:
    """Erase `account`, or every stored account with `handle` (on `platform` when given, in any
    spelling perks.platforms knows, else on every platform), and suppress it; flushes, the
    caller refills `result.campaign_ids` and commits. The handle itself is suppressed too, on
    `platform` or on every platform, whether or not it was stored, so no later file brings it
    back."""
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
    result.account_ids, result.campaign_ids = ids, _shortlisted_campaigns(session, ids)
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
    return sorted(set(session.execute(select(ShortlistEntry.campaign_id).where(
        ShortlistEntry.account_id.in_(ids))).scalars()))

