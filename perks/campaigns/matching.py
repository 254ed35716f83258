"""Matching: which accounts a campaign may offer a perk to, why the others are out, in what order.

The funnel runs these stages in order; each reports how many accounts it removed:

1. pool      every account in the store
2. topic     carries the campaign's topics (any or all) with weight >= min_topic_weight
3. score     influence score (absolute) or percentile inside [score_min, score_max]; unscored out
4. audience  followers range, languages (``en`` also matches ``en-gb``), location contains,
             and no perk approved by this brand in the last ``exclude_recent_days`` days
5. privacy   protected accounts, minors (flag or birth year), probable minors (the bio, see
             perks.privacy.minors), opted-out people and, for an opted-in-only campaign, anyone
             who has not opted in; the funnel also counts each rule (the first that applies).
             Suppressed people are never stored, so no stage can count or name them.
6. flagged   bot_probability >= the campaign's threshold or a rule flag, unless a reviewer
             of the campaign's brand decided "genuine" (perks.review; one decision covers
             all the brand's campaigns)
7. person    one account per person: the most relevant one stays
8. capacity  beyond the perk quantity: these are wait-listed, not dropped

Relevance, the ranking key::

    relevance = topic_weight * value / 100

``value`` is the influence score or percentile, whichever the campaign targets. ``topic_weight``
is the highest weight among the campaign's topics for an "any" campaign, and the mean weight
over the campaign's topics for an "all" campaign (every topic is present there). A campaign
without topics counts every account at weight 1. Ties break by account id, lowest first.

Counting and ranking are SQL: the pool never comes into Python. No Flask here.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlmodel import Session

from perks.accounts import topic_ids_by_slug
from perks.models import Account, AccountTopic, Campaign, ReviewDecision, ShortlistEntry

DEFAULT_BOT_THRESHOLD = 0.5
MINOR_AGE = 18
STAGES = (
    ("pool", "Accounts in the pool"),
    ("topic", "Topic"),
    ("score", "Score range"),
    ("audience", "Audience filters"),
    ("privacy", "Consent and privacy"),
    ("flagged", "Flagged, not cleared"),
    ("person", "One per person"),
    ("capacity", "Beyond the perk quantity"),
)
STAGE_LABELS = dict(STAGES)
PRIVACY_RULES = (
    ("protected", "Protected account"),
    ("minor", "Minor (birth year or flag)"),
    ("probable_minor", "Probable minor (bio)"),
    ("opted_out", "Opted out"),
    ("not_opted_in", "Not opted in (opted-in-only campaign)"),
)

account = Account.__table__
account_topic = AccountTopic.__table__
shortlist = ShortlistEntry.__table__
campaign_table = Campaign.__table__
review_decision = ReviewDecision.__table__


def bot_threshold(strictness: str | float | None) -> float:
    """The bot-probability threshold for a campaign's strictness (a number is used as is).

    Named settings come from the detector (``Detector.threshold_for``); without it, 0.5.
    """
    if strictness is None or strictness == "":
        return DEFAULT_BOT_THRESHOLD
    try:
        return min(1.0, max(0.0, float(strictness)))
    except (TypeError, ValueError):
        pass
    try:
        return float(_detector().threshold_for({"balanced": "standard"}.get(strictness,
                                                                          strictness)))
    except Exception:  # noqa: BLE001 - detector missing or not trained: the documented default
        return DEFAULT_BOT_THRESHOLD


@functools.cache
def _detector() -> Any:
    from perks.detection import Detector  # loaded once per process: the model file is large

    return Detector.load()


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

    @property
    def eligible(self) -> int:
        """Accounts left after one-per-person: offered plus wait-listed."""
        return self.stages[-2].remaining

    @property
    def offered(self) -> int:
        return self.stages[-1].remaining

    def as_dict(self) -> dict[str, Any]:
        return {"bot_threshold": self.bot_threshold,
                "stages": [{"stage": s.key, "label": s.label, "removed": s.removed,
                            "remaining": s.remaining} for s in self.stages],
                "privacy_rules": [{"rule": r.key, "label": r.label, "removed": r.removed}
                                  for r in self.privacy_rules]}


@dataclass
class Conditions:
    """The SQL pieces for one campaign; `value` is the targeted score column."""

    campaign: Campaign
    threshold: float
    today: date
    topic_ids: list[int]
    value: Any = field(init=False)

    def __post_init__(self) -> None:
        self.value = (account.c.influence_percentile if self.campaign.score_mode == "percentile"
                      else account.c.influence_score)

    def topic_match(self):
        """(account_id, topic_weight) for accounts passing the topic stage."""
        c = self.campaign
        if not c.topics:
            return select(account.c.id.label("account_id"),
                          literal(1.0).label("topic_weight")).subquery("matched")
        weight = (func.max(account_topic.c.weight) if c.topic_mode == "any"
                  else func.avg(account_topic.c.weight))
        query = (select(account_topic.c.account_id, weight.label("topic_weight"))
                 .where(account_topic.c.topic_id.in_(self.topic_ids),
                        account_topic.c.weight >= c.min_topic_weight)
                 .group_by(account_topic.c.account_id))
        if c.topic_mode == "all":
            # A slug missing from the taxonomy can never be carried, so "all" then matches none.
            query = query.having(func.count() == len(c.topics))
        return query.subquery("matched")

    def score(self) -> ColumnElement[bool]:
        c = self.campaign
        return and_(self.value.is_not(None), self.value >= c.score_min, self.value <= c.score_max)

    def audience(self) -> ColumnElement[bool]:
        c = self.campaign
        parts: list[ColumnElement[bool]] = []
        if c.followers_min is not None:
            parts.append(account.c.followers_count >= c.followers_min)
        if c.followers_max is not None:
            parts.append(account.c.followers_count <= c.followers_max)
        if c.languages:
            lang = func.lower(account.c.lang)
            parts.append(or_(*[or_(lang == code, lang.like(f"{_escape_like(code)}-%", escape="\\"))
                               for code in (x.lower() for x in c.languages)]))
        if c.location_contains:
            needle = f"%{_escape_like(c.location_contains.lower())}%"
            parts.append(func.lower(account.c.location).like(needle, escape="\\"))
        if c.exclude_recent_days:
            parts.append(account.c.id.not_in(self.recent_perks()))
        return and_(true(), *parts)

    def recent_perks(self):
        days = timedelta(days=self.campaign.exclude_recent_days or 0)
        since = datetime.combine(self.today - days, datetime.min.time(), tzinfo=UTC)
        return (select(shortlist.c.account_id)
                .join(campaign_table, campaign_table.c.id == shortlist.c.campaign_id)
                .where(campaign_table.c.brand_id == self.campaign.brand_id,
                       campaign_table.c.id != self.campaign.id,
                       shortlist.c.status == "approved", shortlist.c.updated_at >= since))

    def privacy_rules(self) -> list[tuple[str, ColumnElement[bool]]]:
        """(rule, condition that excludes) in PRIVACY_RULES order; never NULL, so NOT works."""
        adult_born_by = self.today.year - MINOR_AGE
        return [
            ("protected", account.c.protected == true()),
            ("minor", or_(func.coalesce(account.c.is_minor, false()) == true(),
                          func.coalesce(account.c.birth_year, 0) > adult_born_by)),
            ("probable_minor", func.coalesce(account.c.probable_minor, false()) == true()),
            ("opted_out", account.c.consent == "opted_out"),
            ("not_opted_in", account.c.consent != "opted_in" if self.campaign.opted_in_only
             else false()),
        ]

    def privacy(self) -> ColumnElement[bool]:
        # Every rule lives in privacy_rules so funnel, ranking, export and why-not agree.
        return and_(true(), *[not_(excluded) for _rule, excluded in self.privacy_rules()])

    def flagged(self) -> ColumnElement[bool]:
        """Probability at or above the threshold, or a rule flag; never NULL."""
        return or_(and_(account.c.bot_probability.is_not(None),
                        account.c.bot_probability >= self.threshold),
                   has_rule_flags())

    def cleared(self) -> ColumnElement[bool]:
        """A reviewer of this campaign's brand decided "genuine"."""
        return account.c.id.in_(select(review_decision.c.account_id).where(
            review_decision.c.brand_id == self.campaign.brand_id,
            review_decision.c.decision == "genuine"))

    def not_flagged(self) -> ColumnElement[bool]:
        return or_(~self.flagged(), self.cleared())


def has_rule_flags() -> ColumnElement[bool]:
    # perks score writes NULL when no rule fired; 'null' and '[]' are tolerated all the same.
    return and_(account.c.bot_flags.is_not(None),
                cast(account.c.bot_flags, Text).not_in(("null", "[]")))


def conditions(session: Session, campaign: Campaign, *, bot_threshold: float,
               today: date | None = None) -> Conditions:
    ids = topic_ids_by_slug(session)
    return Conditions(campaign, bot_threshold, today or datetime.now(UTC).date(),
                      [ids[s] for s in campaign.topics if s in ids])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _count(flag: ColumnElement[bool]):
    return func.coalesce(func.sum(case((flag, 1), else_=0)), 0)


def funnel(session: Session, campaign: Campaign, *, bot_threshold: float,
           today: date | None = None) -> Funnel:
    """How many accounts each stage removed, in order (two aggregate queries)."""
    cond = conditions(session, campaign, bot_threshold=bot_threshold, today=today)
    matched = cond.topic_match()
    score = cond.score()
    audience = and_(score, cond.audience())
    privacy = and_(audience, cond.privacy())
    clean = and_(privacy, cond.not_flagged())
    pool = session.execute(select(func.count()).select_from(account)).scalar_one()
    rules, earlier = [], []
    for _rule, excluded in cond.privacy_rules():
        rules.append(_count(and_(audience, excluded, *[not_(e) for e in earlier])))
        earlier.append(excluded)
    row = session.execute(
        select(func.count(), _count(score), _count(audience), _count(privacy), _count(clean),
               func.count(func.distinct(case((clean, account.c.person_id)))),
               _count(and_(clean, account.c.person_id.is_(None))), *rules)
        .select_from(matched.join(account, account.c.id == matched.c.account_id))).one()
    topic_n, score_n, audience_n, privacy_n, clean_n, persons, loners = (int(x) for x in row[:7])
    person_n = persons + loners if campaign.one_per_person else clean_n
    offered = min(person_n, campaign.quantity)
    remaining = [pool, topic_n, score_n, audience_n, privacy_n, clean_n, person_n, offered]
    stages = [Stage(key, label, (remaining[i - 1] - remaining[i]) if i else 0, remaining[i])
              for i, (key, label) in enumerate(STAGES)]
    privacy_rules = [Stage(key, label, int(n), 0)
                     for (key, label), n in zip(PRIVACY_RULES, row[7:], strict=True)]
    return Funnel(stages, bot_threshold, privacy_rules)


def ranked_query(cond: Conditions):
    """Eligible accounts with relevance and rank (1 = best), as a subquery."""
    matched = cond.topic_match()
    relevance = (matched.c.topic_weight * cond.value / 100.0).label("relevance")
    order = (relevance.desc(), account.c.id)
    person_rank = (func.row_number().over(
        partition_by=func.coalesce(account.c.person_id, -account.c.id), order_by=order)
        if cond.campaign.one_per_person else literal(1))
    eligible = (select(account.c.id.label("account_id"), relevance,
                       person_rank.label("person_rank"))
                .select_from(matched.join(account, account.c.id == matched.c.account_id))
                .where(cond.score(), cond.audience(), cond.privacy(), cond.not_flagged()))
    eligible = eligible.subquery("eligible")
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
    cond = conditions(session, campaign, bot_threshold=bot_threshold, today=today)
    from perks.campaigns import ranking  # it imports this module for Ranked

    if ranking.supports(cond):
        return ranking.ranked_fast(session, cond, limit=limit, offset=offset)
    ranked = ranked_query(cond)
    rows = session.execute(select(ranked.c.account_id, ranked.c.relevance, ranked.c.rank)
                           .order_by(ranked.c.rank).offset(offset).limit(limit))
    return [Ranked(int(a), float(r), int(k)) for a, r, k in rows]


def reason_texts(reasons: Sequence[Any]) -> list[str]:
    texts = []
    for reason in reasons:
        if isinstance(reason, dict):
            texts.append(str(reason.get("text") or reason.get("reason") or reason.get("rule")
                             or next(iter(reason.values()), "")))
        else:
            texts.append(str(reason))
    return [t for t in texts if t]

