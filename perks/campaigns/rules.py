"""The campaign rules, each defined once: every funnel stage's test and the relevance formula.

The funnel runs these stages in order; each reports how many accounts it removed:

1. pool      the campaign's audience: the shared pool, the brand's own lists, or both
             (`in_audience`, from perks.accounts.lists). Every later stage counts from this
             base, so another brand's list-only accounts are never counted or named.
2. topic     carries the campaign's topics (any or all) with weight >= min_topic_weight
3. score     influence score (absolute) or percentile inside [score_min, score_max]; unscored out
4. audience  followers range, languages (``en`` also matches ``en-gb``), location contains,
             and no perk approved by this brand in the last ``exclude_recent_days`` days
5. privacy   protected accounts, minors (flag or birth year), probable minors (the bio, see
             perks.privacy.minors), opted-out people and, for an opted-in-only campaign, anyone
             who has not opted in. Suppressed people are never stored, so no stage can count
             or name them.
6. flagged   bot_probability >= the campaign's threshold or a rule flag, unless a reviewer of
             the campaign's brand decided "genuine" (one decision covers all its campaigns)
7. person    one account per person: the most relevant one stays
8. capacity  beyond the perk quantity: these are wait-listed, not dropped

Relevance, the ranking key::

    relevance = topic_weight * value / 100

``value`` is the influence score or percentile, whichever the campaign targets. ``topic_weight``
is the highest weight among the campaign's topics for an "any" campaign and the mean over the
campaign's topics for an "all" campaign. A campaign without topics counts every account at
weight 1. Ties break by account id, lowest first.

Stages 3–6 are lists of `Rule`: an SQL test over a *row source* (the ``account`` table or the
``topic_rank`` copy, which carries the same column names) plus the words that explain it from
the account's values. Counting (perks.campaigns.matching), the ranking table
(perks.campaigns.ranking), why-not, the charts and the review queue all build their SQL from
these rules, so they cannot disagree. No Flask here.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, false, func, literal, or_, select, true

from perks.accounts import lists
from perks.accounts.rank_rows import rank_product  # the rank indexes' key
from perks.models import Account, AccountTopic, Campaign, ReviewDecision, ShortlistEntry

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

account = Account.__table__
account_topic = AccountTopic.__table__
shortlist = ShortlistEntry.__table__
campaign_table = Campaign.__table__
review_decision = ReviewDecision.__table__


@dataclass(frozen=True)
class Context:
    """What the rules need besides the account: the campaign, its threshold, the day."""

    campaign: Campaign
    threshold: float
    today: date
    topic_ids: list[int] = field(default_factory=list)
    adapted: bool = False  # the brand has adapted bot probabilities (perks.detection.adapt)


class Source:
    """A row source the rules read: a table whose columns carry the account's column names.

    `id` is the account id column (``account.id`` or ``topic_rank.account_id``).
    """

    def __init__(self, table: Any, id_column: str = "id") -> None:
        self.table = table
        self.c = table.c
        self.id = table.c[id_column]

    def value(self, campaign: Campaign) -> ColumnElement:
        """The targeted score column: percentile or absolute score."""
        return (self.c.influence_percentile if campaign.score_mode == "percentile"
                else self.c.influence_score)

    def person_key(self) -> ColumnElement:
        # An account nobody linked is a person of its own; ids are positive, so -id is free.
        return func.coalesce(self.c.person_id, -self.id)


ACCOUNTS = Source(account)


def in_audience(src: Source, ctx: Context) -> ColumnElement[bool]:
    """SQL: the account is in the campaign's audience, the base of its funnel (always within
    what the brand may see: perks.accounts.lists)."""
    c = ctx.campaign
    return lists.in_audience(c.audience, src.id, src.c.shared, c.brand_id)


AUDIENCE_WORDS = {"shared": "the shared pool only", "lists": "your brand's own lists only",
                  "both": "the shared pool and your brand's lists"}


def audience_explain(row: Mapping[str, Any], ctx: Context) -> str:
    """Why an account the brand sees is outside the campaign's audience."""
    where = "in the shared pool" if row["shared"] else "only in your brand's lists"
    return (f"{where}; this campaign targets "
            f"{AUDIENCE_WORDS.get(ctx.campaign.audience, ctx.campaign.audience)}")


@dataclass(frozen=True)
class Rule:
    """One exclusion: `excludes` is SQL that is true (never NULL) when the account is out."""

    key: str
    stage: str
    label: str
    columns: tuple[str, ...]  # account columns the test reads (the ranking table copies them)
    excludes: Callable[[Source, Context], ColumnElement[bool]]
    explain: Callable[[Mapping[str, Any], Context], str]
    active: Callable[[Campaign], bool] = lambda _campaign: True
    needs_tables: bool = False  # reads other tables (shortlists, decisions) besides the row


def _fmt(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:.0f}"


def _bounds(low: Any, high: Any, fmt: Callable[[Any], str] = _fmt) -> str:
    if low is not None and high is not None:
        return f"{fmt(low)}–{fmt(high)}"
    return f"≥ {fmt(low)}" if low is not None else f"≤ {fmt(high)}"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _score_excludes(src: Source, ctx: Context) -> ColumnElement[bool]:
    c, value = ctx.campaign, src.value(ctx.campaign)
    return or_(value.is_(None), value < c.score_min, value > c.score_max)


def _score_explain(row: Mapping[str, Any], ctx: Context) -> str:
    c = ctx.campaign
    what = "percentile" if c.score_mode == "percentile" else "score"
    value = row["influence_percentile" if c.score_mode == "percentile" else "influence_score"]
    if value is None:
        return f"no {what} yet (not scored)"
    return f"{what} {_fmt(value)}, campaign needs {_bounds(c.score_min, c.score_max)}"


def _followers_excludes(src: Source, ctx: Context) -> ColumnElement[bool]:
    c, n = ctx.campaign, src.c.followers_count
    parts = []
    if c.followers_min is not None:
        parts.append(n < c.followers_min)
    if c.followers_max is not None:
        parts.append(n > c.followers_max)
    return or_(false(), *parts)


def _followers_explain(row: Mapping[str, Any], ctx: Context) -> str:
    c = ctx.campaign
    return (f"{row['followers_count']:,} followers, campaign needs "
            f"{_bounds(c.followers_min, c.followers_max, lambda n: f'{n:,}')}")


def _language_excludes(src: Source, ctx: Context) -> ColumnElement[bool]:
    lang = func.coalesce(func.lower(src.c.lang), "")
    codes = [x.lower() for x in ctx.campaign.languages]
    return ~or_(*[or_(lang == code, lang.like(f"{_escape_like(code)}-%", escape="\\"))
                  for code in codes])


def _language_explain(row: Mapping[str, Any], ctx: Context) -> str:
    return (f"language {row['lang'] or 'unknown'}, campaign needs "
            f"{', '.join(ctx.campaign.languages)}")


def _location_excludes(src: Source, ctx: Context) -> ColumnElement[bool]:
    needle = f"%{_escape_like((ctx.campaign.location_contains or '').lower())}%"
    return ~func.coalesce(func.lower(src.c.location), "").like(needle, escape="\\")


def _location_explain(row: Mapping[str, Any], ctx: Context) -> str:
    return (f"location {row['location'] or 'unknown'!r}, campaign needs one containing "
            f"{ctx.campaign.location_contains!r}")


def recent_perks(ctx: Context):
    """Accounts this campaign's brand approved for another campaign in the last N days."""
    days = timedelta(days=ctx.campaign.exclude_recent_days or 0)
    since = datetime.combine(ctx.today - days, datetime.min.time(), tzinfo=UTC)
    return (select(shortlist.c.account_id)
            .join(campaign_table, campaign_table.c.id == shortlist.c.campaign_id)
            .where(campaign_table.c.brand_id == ctx.campaign.brand_id,
                   campaign_table.c.id != ctx.campaign.id,
                   shortlist.c.status == "approved", shortlist.c.updated_at >= since))


def _minor_excludes(src: Source, ctx: Context) -> ColumnElement[bool]:
    adult_born_by = ctx.today.year - MINOR_AGE
    return or_(func.coalesce(src.c.is_minor, false()) == true(),
               func.coalesce(src.c.birth_year, 0) > adult_born_by)


def _probable_minor_explain(row: Mapping[str, Any], _ctx: Context) -> str:
    from perks.privacy.minors import minor_evidence

    phrase = minor_evidence(row.get("description"), observed_at=row.get("observed_at"))
    return ("probably a minor" + (f" (bio says “{phrase}”)" if phrase else "")
            + ": perks never shortlists minors")


def cleared(src: Source, ctx: Context) -> ColumnElement[bool]:
    """A reviewer of the campaign's brand decided "genuine"."""
    return src.id.in_(select(review_decision.c.account_id).where(
        review_decision.c.brand_id == ctx.campaign.brand_id,
        review_decision.c.decision == "genuine"))


def has_rule_flags(src: Source) -> ColumnElement[bool]:
    # perks score writes NULL when no rule fired; 'null' and '[]' are tolerated all the same.
    return and_(src.c.bot_flags.is_not(None),
                cast(src.c.bot_flags, Text).not_in(("null", "[]")))


def bot_probability(src: Source, ctx: Context) -> ColumnElement:
    """The probability the campaign's brand sees: its adapted one where it has adapted
    (perks.detection.policy), else the account's own. The ranking table holds only the
    account's own, so it cannot answer adapted brands (perks.campaigns.ranking.supports)."""
    if ctx.adapted and src.table is account:
        from perks.detection import policy

        return policy.brand_bot_probability(ctx.campaign.brand_id)
    return src.c.bot_probability


def by_model(src: Source, ctx: Context) -> ColumnElement[bool]:
    """Bot probability at or above the campaign's threshold; never NULL."""
    p = bot_probability(src, ctx)
    return and_(p.is_not(None), p >= ctx.threshold)


def flagged(src: Source, ctx: Context) -> ColumnElement[bool]:
    """Flagged by the model or a rule, whatever reviewers said (the review queue's test)."""
    return or_(by_model(src, ctx), has_rule_flags(src))


def _flagged_explain(row: Mapping[str, Any], ctx: Context) -> str:
    from perks.detection.reasons import reason_texts

    p = row.get("brand_bot_probability", row["bot_probability"])
    parts = []
    if p is not None and p >= ctx.threshold:
        parts.append(f"bot probability {p:.2f}, campaign allows < {ctx.threshold:.2f}")
    reasons = reason_texts(row.get("bot_reasons") or [])
    if not parts:
        parts.append("flagged by a rule")
    text = parts[0]
    return text + (f" ({'; '.join(reasons[:3])})" if reasons else "")


RULES: tuple[Rule, ...] = (
    Rule("score_range", "score", "Score range", ("influence_score", "influence_percentile"),
         _score_excludes, _score_explain),
    Rule("followers", "audience", "Followers", ("followers_count",),
         _followers_excludes, _followers_explain,
         active=lambda c: c.followers_min is not None or c.followers_max is not None),
    Rule("language", "audience", "Language", ("lang",), _language_excludes, _language_explain,
         active=lambda c: bool(c.languages)),
    Rule("location", "audience", "Location", ("location",), _location_excludes,
         _location_explain, active=lambda c: bool(c.location_contains)),
    Rule("recent_perk", "audience", "Recent perk from this brand", (),
         lambda src, ctx: src.id.in_(recent_perks(ctx)),
         lambda _row, ctx: (f"got a perk from this brand in the last "
                            f"{ctx.campaign.exclude_recent_days} days"),
         active=lambda c: bool(c.exclude_recent_days), needs_tables=True),
    Rule("protected", "privacy", "Protected account", ("protected",),
         lambda src, _ctx: func.coalesce(src.c.protected, false()) == true(),
         lambda _row, _ctx: "protected account: perks never shortlists locked-down profiles"),
    Rule("minor", "privacy", "Minor (birth year or flag)", ("is_minor", "birth_year"),
         _minor_excludes, lambda _row, _ctx: "a minor: perks never shortlists minors"),
    Rule("probable_minor", "privacy", "Probable minor (bio)", ("probable_minor",),
         lambda src, _ctx: func.coalesce(src.c.probable_minor, false()) == true(),
         _probable_minor_explain),
    Rule("opted_out", "privacy", "Opted out", ("consent",),
         lambda src, _ctx: func.coalesce(src.c.consent, "") == "opted_out",
         lambda _row, _ctx: "opted out: perks never shortlists people who said no"),
    Rule("not_opted_in", "privacy", "Not opted in (opted-in-only campaign)", ("consent",),
         lambda src, _ctx: func.coalesce(src.c.consent, "") != "opted_in",
         lambda row, _ctx: (f"consent {str(row['consent']).replace('_', ' ')}: "
                            "this campaign is opted-in only"),
         active=lambda c: bool(c.opted_in_only)),
    Rule("flagged", "flagged", "Flagged, not cleared", ("bot_probability", "bot_flags"),
         lambda src, ctx: and_(flagged(src, ctx), ~cleared(src, ctx)), _flagged_explain,
         needs_tables=True),
)
RULE_STAGES = ("score", "audience", "privacy", "flagged")
PRIVACY_RULES = tuple((r.key, r.label) for r in RULES if r.stage == "privacy")
# Account columns a rule or the ranking reads: what the ranking table copies from account.
# `shared` is read by the audience (in_audience), before any rule.
RANKING_COLUMNS = tuple(dict.fromkeys(
    ["influence_score", "influence_percentile", "person_id"]
    + [name for rule in RULES for name in rule.columns] + ["shared"]))


def active_rules(campaign: Campaign, stages: Sequence[str] = RULE_STAGES) -> list[Rule]:
    """The rules this campaign applies, in funnel order, limited to `stages`."""
    return [r for r in RULES if r.stage in stages and r.active(campaign)]


def passes(src: Source, ctx: Context, stages: Sequence[str] = RULE_STAGES) -> ColumnElement[bool]:
    """SQL: the account passes every active rule of `stages`."""
    return and_(true(), *[~rule.excludes(src, ctx) for rule in active_rules(ctx.campaign, stages)])


def topic_weight_passes(weight: ColumnElement, campaign: Campaign) -> ColumnElement[bool]:
    return weight >= campaign.min_topic_weight


def topic_match(ctx: Context):
    """(account_id, topic_weight) of the accounts passing the topic stage, as a subquery."""
    c = ctx.campaign
    if not c.topics:
        return select(account.c.id.label("account_id"),
                      literal(1.0).label("topic_weight")).subquery("matched")
    weight = (func.max(account_topic.c.weight) if c.topic_mode == "any"
              else func.avg(account_topic.c.weight))
    query = (select(account_topic.c.account_id, weight.label("topic_weight"))
             .where(account_topic.c.topic_id.in_(ctx.topic_ids),
                    topic_weight_passes(account_topic.c.weight, c))
             .group_by(account_topic.c.account_id))
    if c.topic_mode == "all":
        # A slug missing from the taxonomy can never be carried, so "all" then matches none.
        query = query.having(func.count() == len(c.topics))
    return query.subquery("matched")


def topic_explain(weights: Mapping[int, float], ctx: Context) -> str | None:
    """Why the topic stage excludes an account with these weights on the campaign's topics."""
    c = ctx.campaign
    if not c.topics:
        return None
    passing = [w for w in weights.values() if w >= c.min_topic_weight]
    wanted = ", ".join(c.topics)
    if c.topic_mode == "any" and not passing:
        if weights:
            return (f"topic weight {_fmt(max(weights.values()))}, campaign needs ≥ "
                    f"{_fmt(c.min_topic_weight)} in {wanted}")
        return f"none of the campaign's topics ({wanted})"
    if c.topic_mode == "all" and len(passing) < len(c.topics):
        return (f"carries {len(passing)} of the {len(c.topics)} topics the campaign needs all of "
                f"({wanted}) at weight ≥ {_fmt(c.min_topic_weight)}")
    return None


def relevance(weight: ColumnElement, value: ColumnElement) -> ColumnElement:
    """The ranking key: topic weight × targeted score / 100."""
    return rank_product(weight, value) / 100.0


def relevance_from_product(product: float) -> float:
    return product / 100.0
