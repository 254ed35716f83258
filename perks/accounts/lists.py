"""A brand's named account lists and the one rule of who sees an account.

An account is in the shared pool (``account.shared``) every brand sees, or only in the named
lists that hold it: an upload puts the accounts it brings into the uploading brand's list, and
another brand never sees an account only that list holds. `visible_to_brand` is that rule as
SQL; every surface (accounts browser, account page, campaigns, review queue, API, export)
builds its queries from it or from `in_audience`, which narrows it to a campaign's audience.
"""

import re

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlmodel import Session

from perks.models import AccountList, AccountListMember

LIST_NAME_MAX = 100
# Letters, digits, spaces and a little punctuation: a name a marketer types and a CLI accepts.
_NAME = re.compile(r"[\w][\w .,&'()+-]*", re.UNICODE)

account_list = AccountList.__table__
member = AccountListMember.__table__


class ListNameError(ValueError):
    """The list name cannot be used; the message says why."""


def clean_list_name(name: str) -> str:
    """The name with surrounding spaces trimmed; ListNameError when it is empty, too long or
    holds characters a list name cannot."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ListNameError("list name: give a name for the list")
    if len(cleaned) > LIST_NAME_MAX:
        raise ListNameError(f"list name: at most {LIST_NAME_MAX} characters "
                            f"(this one has {len(cleaned)})")
    if not _NAME.fullmatch(cleaned):
        raise ListNameError(f"list name {cleaned!r}: use letters, digits, spaces and . , & ' "
                            "( ) + - only, starting with a letter or digit")
    return cleaned


def get_or_create_list(session: Session, *, brand_id: int, name: str) -> AccountList:
    """The brand's list called `name` (compared after trimming), created when missing.
    Raises ListNameError for a name that cannot be used. Commits when it creates one."""
    cleaned = clean_list_name(name)
    query = select(AccountList).where(AccountList.brand_id == brand_id,
                                      AccountList.name == cleaned)
    found = session.exec(query).scalars().first()
    if found is not None:
        return found
    created = AccountList(brand_id=brand_id, name=cleaned)
    session.add(created)
    session.commit()
    session.refresh(created)
    return created


def lists_for_brand(session: Session, brand_id: int) -> list[AccountList]:
    """The brand's lists, by name."""
    query = (select(AccountList).where(AccountList.brand_id == brand_id)
             .order_by(AccountList.name, AccountList.id))
    return list(session.exec(query).scalars().all())


def list_sizes(session: Session, brand_id: int) -> dict[int, int]:
    """How many accounts each of the brand's lists holds, by list id."""
    rows = session.execute(
        select(member.c.list_id, func.count())
        .join(account_list, account_list.c.id == member.c.list_id)
        .where(account_list.c.brand_id == brand_id).group_by(member.c.list_id))
    return {list_id: count for list_id, count in rows}


def in_brand_lists(account_id_column: ColumnElement, brand_id: int) -> ColumnElement[bool]:
    """SQL: one of the brand's lists holds the account."""
    # IN, not a correlated EXISTS: the databases read the brand's members once and count a
    # lists-only pool from them, instead of probing for every account.
    return account_id_column.in_(
        select(member.c.account_id)
        .join(account_list, account_list.c.id == member.c.list_id)
        .where(account_list.c.brand_id == brand_id))


def visible_to_brand(account_id_column: ColumnElement, shared_column: ColumnElement,
                     brand_id: int) -> ColumnElement[bool]:
    """SQL, never NULL: the brand may see the account — it is in the shared pool or in one of
    the brand's lists. The one definition of who sees which account."""
    return in_audience("both", account_id_column, shared_column, brand_id)


def in_audience(audience: str, account_id_column: ColumnElement,
                shared_column: ColumnElement, brand_id: int) -> ColumnElement[bool]:
    """SQL: the account is in a campaign's audience — "shared" (the shared pool), "lists"
    (the brand's own lists) or "both"; always within what the brand may see."""
    in_shared = shared_column.is_(true())
    if audience == "shared":
        return in_shared
    if audience == "lists":
        return in_brand_lists(account_id_column, brand_id)
    if audience == "both":
        return or_(in_shared, in_brand_lists(account_id_column, brand_id))
    raise ValueError(f"audience must be shared, lists or both, not {audience!r}")


def add_members(session: Session, *, list_id: int, account_ids: list[int],
                import_run_id: int | None = None) -> int:
    """Put the accounts into the list (those it holds already stay as they are), in the
    caller's transaction; returns how many were added. `import_run_id` marks them as that
    import's, so `drop_import_members` can take them back out."""
    wanted = set(account_ids)
    if not wanted:
        return 0
    held = set(session.execute(select(member.c.account_id).where(
        member.c.list_id == list_id, member.c.account_id.in_(wanted))).scalars())
    missing = sorted(wanted - held)
    if missing:
        session.execute(member.insert(), [
            {"list_id": list_id, "account_id": account_id, "import_run_id": import_run_id}
            for account_id in missing])
    return len(missing)


def drop_import_members(session: Session, import_run_id: int | None) -> None:
    """Remove the memberships import run `import_run_id` added (its undo), in the caller's
    transaction."""
    session.execute(member.delete().where(member.c.import_run_id == import_run_id))
