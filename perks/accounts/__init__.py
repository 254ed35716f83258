"""The account store's read side and the topic table: lookups the web pages and CLI share."""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, or_, select
from sqlmodel import Session

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


def find_account(session: Session, handle: str, platform: str | None = None) -> Account | None:
    """The account with this handle (case-insensitive, leading @ ignored)."""
    query = select(Account).where(func.lower(Account.screen_name) == handle.lstrip("@").lower())
    if platform:
        query = query.where(Account.platform == platform)
    return session.exec(query.order_by(Account.id)).scalars().first()


def search_accounts(session: Session, *, query: str = "", page: int = 1,
                    per_page: int = 50) -> Page:
    """Accounts whose handle or name contains `query`, largest audience first."""
    condition = None
    if query.strip():
        needle = f"%{_escape_like(query.strip().lstrip('@').lower())}%"
        condition = or_(func.lower(Account.screen_name).like(needle, escape="\\"),
                        func.lower(Account.name).like(needle, escape="\\"))
    count = select(func.count()).select_from(Account)
    rows = select(Account).order_by(Account.followers_count.desc(), Account.id)
    if condition is not None:
        count, rows = count.where(condition), rows.where(condition)
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
