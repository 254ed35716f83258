"""Matching: which accounts a campaign may offer a perk to, and in what order.

The stages, their rules and the relevance formula are defined once in perks.campaigns.rules;
this module turns them into the funnel's counts and the ranked shortlist. Counting and ranking
are SQL: the pool never comes into Python. No Flask here.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal, select, true
from sqlmodel import Session

from perks.accounts import topic_ids_by_slug
from perks.campaigns import query_cache, rules
from perks.campaigns.rules import ACCOUNTS, STAGES, Context, account
from perks.detection import policy
from perks.models import Campaign


@dataclass
class Stage:
    key: str
    label: str
    removed: int
    remaining: int


@dataclass
class Funnel:
    stages: list[Stage]
    bot_threshold: float
    # What each privacy rule removed, first rule that applies; they add up to the stage.
    privacy_rules: list[Stage] = field(default_factory=list)

    @property
    def pool(self) -> int:
        return self.stages[0].remaining

    def remaining(self, key: str) -> int:
        return next(s.remaining for s in self.stages if s.key == key)

    def removed(self, key: str) -> int:
        return next(s.removed for s in self.stages if s.key == key)

    @property
    def eligible(self) -> int:
        """Accounts left after one-per-person: offered plus wait-listed."""
        return self.remaining("person")

    @property
    def offered(self) -> int:
        return self.remaining("capacity")

    def as_dict(self) -> dict[str, Any]:
        return {"bot_threshold": self.bot_threshold,
                "stages": [{"stage": s.key, "label": s.label, "removed": s.removed,
                            "remaining": s.remaining} for s in self.stages],
                "privacy_rules": [{"rule": r.key, "label": r.label, "removed": r.removed}
                                  for r in self.privacy_rules]}


def context(session: Session, campaign: Campaign, *, bot_threshold: float,
            today: date | None = None) -> Context:
    """The rules' context for `campaign`: its topics' ids, threshold and today's date."""
    ids = topic_ids_by_slug(session)
    return Context(campaign, bot_threshold, today or datetime.now(UTC).date(),
                   [ids[s] for s in campaign.topics if s in ids],
                   adapted=policy.brand_is_adapted(session, campaign.brand_id))


def _count(flag: ColumnElement[bool]):
    return func.coalesce(func.sum(case((flag, 1), else_=0)), 0)


def matched_pool(ctx: Context, stages=rules.RULE_STAGES):
    """SELECT … FROM the topic-matched accounts of the campaign's audience WHERE they pass
    `stages` (the caller adds columns); also returns the topic-match subquery for its
    topic_weight. The audience is in the join: no count made from `source` sees the rest."""
    matched = rules.topic_match(ctx)
    source = matched.join(account, and_(account.c.id == matched.c.account_id,
                                        rules.in_audience(ACCOUNTS, ctx)))
    return matched, source, rules.passes(ACCOUNTS, ctx, stages)


def _pool_count(session: Session, ctx: Context) -> int:
    """How many accounts the campaign's audience holds. An audience with the shared pool is
    counted as every account less the list-only ones outside it: SQLite counts a whole table
    without reading its rows, and ix_account_shared finds the list-only ones."""
    audience = rules.in_audience(ACCOUNTS, ctx)
    count = select(func.count()).select_from(account)
    if ctx.campaign.audience == "lists":
        return session.execute(count.where(audience)).scalar_one()
    outside = session.execute(count.where(account.c.shared.is_(false()), ~audience)).scalar_one()
    return session.execute(count).scalar_one() - outside


def funnel(session: Session, campaign: Campaign, *, bot_threshold: float,
           today: date | None = None) -> Funnel:
    """How many accounts each stage removed, in order (two aggregate queries), reused while
    the database is unchanged (perks.campaigns.query_cache.versioned: kept in this process,
    keyed by the campaign's values and the data version read now, so a GET stores nothing)."""
    today = today or datetime.now(UTC).date()
    key = ("funnel", query_cache.campaign_key(campaign), bot_threshold, today)
    return query_cache.versioned(session, key, lambda: count_funnel(
        session, campaign, bot_threshold=bot_threshold, today=today))


def count_funnel(session: Session, campaign: Campaign, *, bot_threshold: float,
                 today: date) -> Funnel:
    """The funnel counted now, without the cache."""
    ctx = context(session, campaign, bot_threshold=bot_threshold, today=today)
    matched, source, _ = matched_pool(ctx)
    cumulative, reached, privacy_counts = [], [], []
    passed: list[ColumnElement[bool]] = []
    for stage in rules.RULE_STAGES:
        stage_rules = rules.active_rules(campaign, (stage,))
        if stage == "privacy":
            # Each privacy rule counts what it removed first, so they add up to the stage.
            earlier: list[ColumnElement[bool]] = []
            for rule in rules.RULES:
                if rule.stage != "privacy":
                    continue
                excluded = rule.excludes(ACCOUNTS, ctx) if rule.active(campaign) else None
                privacy_counts.append(
                    _count(and_(*passed, excluded, *[~e for e in earlier]))
                    if excluded is not None else literal(0))
                if excluded is not None:
                    earlier.append(excluded)
        passed = passed + [~r.excludes(ACCOUNTS, ctx) for r in stage_rules]
        reached.append(and_(true(), *passed))
        cumulative.append(_count(reached[-1]))
    clean = reached[-1]
    pool = _pool_count(session, ctx)
    row = session.execute(
        select(func.count(), *cumulative,
               func.count(func.distinct(case((clean, account.c.person_id)))),
               _count(and_(clean, account.c.person_id.is_(None))), *privacy_counts)
        .select_from(source)).one()
    n = len(rules.RULE_STAGES)
    topic_n, *stage_n = (int(x) for x in row[:n + 1])
    persons, loners = int(row[n + 1]), int(row[n + 2])
    person_n = persons + loners if campaign.one_per_person else stage_n[-1]
    offered = min(person_n, campaign.quantity)
    remaining = [pool, topic_n, *stage_n, person_n, offered]
    stages = [Stage(key, label, (remaining[i - 1] - remaining[i]) if i else 0, remaining[i])
              for i, (key, label) in enumerate(STAGES)]
    privacy_rules = [Stage(key, label, int(n), 0)
                     for (key, label), n in zip(rules.PRIVACY_RULES, row[n + 3:], strict=True)]
    return Funnel(stages, bot_threshold, privacy_rules)


def ranked_query(ctx: Context):
    """Eligible accounts with relevance and rank (1 = best), as a subquery."""
    matched, source, eligible_where = matched_pool(ctx)
    relevance = rules.relevance(matched.c.topic_weight, ACCOUNTS.value(ctx.campaign))
    relevance = relevance.label("relevance")
    order = (relevance.desc(), account.c.id)
    person_rank = (func.row_number().over(partition_by=ACCOUNTS.person_key(), order_by=order)
                   if ctx.campaign.one_per_person else literal(1))
    eligible = (select(account.c.id.label("account_id"), relevance,
                       person_rank.label("person_rank"))
                .select_from(source).where(eligible_where)).subquery("eligible")
    return (select(eligible.c.account_id, eligible.c.relevance,
                   func.row_number().over(order_by=(eligible.c.relevance.desc(),
                                                    eligible.c.account_id)).label("rank"))
            .where(eligible.c.person_rank == 1)).subquery("ranked")


@dataclass
class Ranked:
    account_id: int
    relevance: float
    rank: int


def ranked_shortlist(session: Session, campaign: Campaign, *, bot_threshold: float,
                     limit: int, offset: int = 0, today: date | None = None) -> list[Ranked]:
    """The best `limit` eligible accounts from `offset`, by relevance then account id."""
    from perks.campaigns import ranking

    ctx = context(session, campaign, bot_threshold=bot_threshold, today=today)
    if ranking.supports(ctx):
        return [Ranked(*row) for row in ranking.ranked_fast(session, ctx, limit=limit,
                                                             offset=offset)]
    ranked = ranked_query(ctx)
    rows = session.execute(select(ranked.c.account_id, ranked.c.relevance, ranked.c.rank)
                           .order_by(ranked.c.rank).offset(offset).limit(limit))
    return [Ranked(int(a), float(r), int(k)) for a, r, k in rows]
