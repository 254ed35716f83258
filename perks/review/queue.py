"""The review queue: flagged accounts in the matched pools of a brand's campaigns.

An account is in the queue when, for at least one of the brand's campaigns, it passes the
topic, score, audience and privacy stages (its "matched pool") and is flagged there: bot
probability at or above that campaign's threshold, or a rule flag (perks.campaigns.rules, the
same rules the funnel counts). Privacy comes first, so a reviewer never sees a minor's or an
opted-out person's profile.

Order, most important first::

    importance = max over affected campaigns of relevance × bot_probability

``relevance`` is the shortlist's ranking key (perks.campaigns.rules.relevance), so an
account that would rank high on a shortlist and is probably automated comes first: deciding it
changes the most.
Ties break by account id. Filtering and paging are SQL; only the page comes into Python.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, and_, cast, func, literal, select, union_all
from sqlmodel import Session

from perks.accounts import Page
from perks.campaigns import rules
from perks.campaigns.matching import context, matched_pool
from perks.campaigns.rules import ACCOUNTS, account
from perks.detection import policy
from perks.models import Campaign, ReviewDecision
from perks.review import STATES  # noqa: F401  (re-exported for the web and API views)

review_decision = ReviewDecision.__table__
MODEL_REASON = "model"  # filter value: flagged by probability (not only by a rule)


@dataclass
class QueueItem:
    account_id: int
    screen_name: str
    name: str | None
    url: str | None
    probability: float | None
    reasons: list[str]
    rule_flags: list[str]
    importance: float
    relevance: float
    followers_count: int
    friends_count: int
    statuses_count: int
    influence_percentile: float | None
    posts_per_day: float | None
    model_version: str | None
    decision: str | None
    version: int  # the decision's version, 0 when undecided: send it back with the decision
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    platform: str = "twitter"  # with screen_name, where the profile is (the page links it)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def brand_campaigns(session: Session, brand_id: int) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.brand_id == brand_id)
                             .order_by(Campaign.name)).scalars())


def _matched(session: Session, campaign: Campaign, *, flagged_only: bool):
    """(account_id, campaign_id, relevance, by_model) of one campaign's matched pool."""
    ctx = context(session, campaign, bot_threshold=policy.campaign_threshold(campaign))
    matched, source, passed = matched_pool(ctx, ("score", "audience", "privacy"))
    relevance = rules.relevance(matched.c.topic_weight, ACCOUNTS.value(campaign))
    query = (select(account.c.id.label("account_id"),
                    literal(campaign.id).label("campaign_id"),
                    relevance.label("relevance"),
                    rules.by_model(ACCOUNTS, ctx).label("by_model"))
             .select_from(source).where(passed))
    if flagged_only:
        query = query.where(rules.flagged(ACCOUNTS, ctx))
    return query


def matched_union(session: Session, campaigns: list[Campaign], *, flagged_only: bool = True):
    """Every (account, campaign) pair of the brand's matched pools, as one subquery."""
    parts = [_matched(session, c, flagged_only=flagged_only) for c in campaigns]
    return union_all(*parts).subquery("pairs") if len(parts) > 1 else parts[0].subquery("pairs")


def queue_page(session: Session, *, brand_id: int, campaign_id: int | None = None,
               reason: str | None = None, state: str = "pending", page: int = 1,
               per_page: int = 50) -> Page:
    """One page of the brand's queue as a perks.accounts.Page of QueueItem.

    `campaign_id` keeps accounts flagged in that campaign; `reason` a rule flag id or "model"
    (flagged by probability); `state` pending (undecided), a decision, decided or all.
    """
    campaigns = brand_campaigns(session, brand_id)
    if campaign_id is not None:
        campaigns = [c for c in campaigns if c.id == campaign_id]
    page = max(1, page)
    if not campaigns:
        return Page(items=[], page=page, per_page=per_page, total=0)
    pairs = matched_union(session, campaigns)
    per_account = select(pairs.c.account_id, func.max(pairs.c.relevance).label("relevance"))
    if reason == MODEL_REASON:
        per_account = per_account.where(pairs.c.by_model == True)  # noqa: E712 - SQL
    per_account = per_account.group_by(pairs.c.account_id).subquery("per_account")
    importance = (per_account.c.relevance * func.coalesce(account.c.bot_probability, 0.0))
    decided = review_decision.alias("decided")
    query = (select(per_account.c.account_id, per_account.c.relevance,
                    importance.label("importance"), decided.c.decision, decided.c.version)
             .select_from(per_account.join(account, account.c.id == per_account.c.account_id)
                          .outerjoin(decided, and_(decided.c.account_id == account.c.id,
                                                   decided.c.brand_id == brand_id))))
    if reason and reason != MODEL_REASON:
        needle = '%"' + reason.replace("\\", "").replace("%", "").replace("_", "\\_") + '"%'
        query = query.where(cast(account.c.bot_flags, Text).like(needle, escape="\\"))
    if state == "pending":
        query = query.where(decided.c.decision.is_(None))
    elif state == "decided":
        query = query.where(decided.c.decision.is_not(None))
    elif state in ("genuine", "automated", "unsure"):
        query = query.where(decided.c.decision == state)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(importance.desc(), per_account.c.account_id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    items = _items(session, rows, pairs, brand_id)
    return Page(items=items, page=page, per_page=per_page, total=int(total))


def _items(session: Session, rows: list[Any], pairs, brand_id: int) -> list[QueueItem]:
    from perks.detection.reasons import reason_texts  # the detection package loads the ML stack

    ids = [row.account_id for row in rows]
    if not ids:
        return []
    accounts = {r.id: r for r in session.execute(select(
        account.c.id, account.c.screen_name, account.c.name, account.c.url, account.c.platform,
        account.c.bot_probability, account.c.bot_reasons, account.c.bot_flags,
        account.c.followers_count, account.c.friends_count, account.c.statuses_count,
        account.c.influence_percentile, account.c.posts_per_day, account.c.bot_model_version)
        .where(account.c.id.in_(ids)))}
    names = Campaign.__table__
    affected: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for account_id, campaign_id, name, relevance in session.execute(
            select(pairs.c.account_id, pairs.c.campaign_id, names.c.name, pairs.c.relevance)
            .join(names, names.c.id == pairs.c.campaign_id)
            .where(pairs.c.account_id.in_(ids)).order_by(names.c.name)):
        affected[account_id].append({"id": int(campaign_id), "name": name,
                                     "relevance": round(float(relevance or 0), 4)})
    adapted = policy.brand_scores(session, brand_id, ids)  # the brand's own view, if adapted
    items = []
    for row in rows:
        a = accounts[row.account_id]
        probability, reasons = adapted.get(a.id, (a.bot_probability, a.bot_reasons or []))
        items.append(QueueItem(
            account_id=a.id, screen_name=a.screen_name, name=a.name, url=a.url,
            probability=probability, reasons=reason_texts(reasons or a.bot_reasons or []),
            rule_flags=list(a.bot_flags or []), importance=round(float(row.importance or 0), 4),
            relevance=round(float(row.relevance or 0), 4), followers_count=a.followers_count,
            friends_count=a.friends_count, statuses_count=a.statuses_count,
            influence_percentile=a.influence_percentile, posts_per_day=a.posts_per_day,
            model_version=a.bot_model_version, decision=row.decision,
            version=int(row.version or 0), campaigns=affected[row.account_id],
            platform=a.platform))
    return items
