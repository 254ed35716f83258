"""The account store's read side and the topic table: lookups the web pages and CLI share."""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, true
from sqlmodel import Session

from perks.accounts.lists import visible_to_brand
from perks.models import Account, AccountTopic, Topic

if TYPE_CHECKING:  # the topics module loads scikit-learn; only its type is needed here
    from perks.topics import TopicDef


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def sync_topics(session: Session, taxonomy: "list[TopicDef]") -> int:
    """Add taxonomy topics the table lacks and refresh labels; returns how many were added."""
    stored = {topic.slug: topic for topic in session.exec(select(Topic)).scalars()}
    missing = [{"slug": t.slug, "label": t.label} for t in taxonomy if t.slug not in stored]
    for definition in taxonomy:
        if definition.slug in stored and stored[definition.slug].label != definition.label:
            stored[definition.slug].label = definition.label
    if missing:
        session.execute(insert(Topic), missing)
    session.commit()
    return len(missing)


def topic_ids_by_slug(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Topic.slug, Topic.id)).all())


def _visible(brand_id: int | None) -> ColumnElement[bool]:
    """What a brand may see (brand_id None: the operator's command line, everything)."""
    if brand_id is None:
        return true()
    return visible_to_brand(Account.id, Account.shared, brand_id)


def find_account(session: Session, handle: str, platform: str | None = None, *,
                 brand_id: int | None) -> Account | None:
    """The account with this handle (case-insensitive, leading @ ignored) that brand
    `brand_id` may see (None: any account, for the operator's command line)."""
    query = select(Account).where(func.lower(Account.screen_name) == handle.lstrip("@").lower(),
                                  _visible(brand_id))
    if platform:
        query = query.where(Account.platform == platform)
    return session.exec(query.order_by(Account.id)).scalars().first()


def get_account(session: Session, account_id: int, *, brand_id: int | None) -> Account | None:
    """The account with this id if brand `brand_id` may see it (None: any account); another
    brand's list-only account is None, like a missing one."""
    query = select(Account).where(Account.id == account_id, _visible(brand_id))
    return session.exec(query).scalars().first()


def count_accounts(session: Session, *, brand_id: int | None) -> int:
    """How many accounts brand `brand_id` may see (None: all)."""
    return session.execute(select(func.count()).select_from(Account)
                           .where(_visible(brand_id))).scalar_one()


def search_accounts(session: Session, *, brand_id: int | None, query: str = "", page: int = 1,
                    per_page: int = 50) -> Page:
    """Accounts brand `brand_id` may see whose handle or name contains `query`, largest
    audience first."""
    condition = _visible(brand_id)
    if query.strip():
        needle = f"%{_escape_like(query.strip().lstrip('@').lower())}%"
        condition = and_(condition,
                         or_(func.lower(Account.screen_name).like(needle, escape="\\"),
                             func.lower(Account.name).like(needle, escape="\\")))
    count = select(func.count()).select_from(Account).where(condition)
    rows = select(Account).where(condition).order_by(Account.followers_count.desc(), Account.id)
    page = max(1, page)
    total = session.execute(count).scalar_one()
    items = session.exec(rows.offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return Page(items=list(items), page=page, per_page=per_page, total=total)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def account_topics(session: Session, account_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Topic.slug, Topic.label, AccountTopic.weight, AccountTopic.source,
               AccountTopic.evidence)
        .join(Topic, Topic.id == AccountTopic.topic_id)
        .where(AccountTopic.account_id == account_id)
        .order_by(AccountTopic.weight.desc(), Topic.slug))
    return [dict(row._mapping) for row in rows]
