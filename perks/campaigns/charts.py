"""Charts for the campaign page: histograms of the funnel's populations, counted in SQL.

Two histograms of 20 equal bins each:

- score: the campaign's targeted value (influence score or percentile, both 0–100) of the
  accounts the score stage looks at (those left after the topic stage), with the campaign's
  range marked; unscored accounts are counted apart;
- bot probability (0–1) of the accounts the flagged stage looks at (those left after the
  privacy stage), with the campaign's threshold marked; accounts not yet assessed are counted
  apart.

Each chart's headline count ("in range", "flagged, not cleared") is the stage's own rule from
perks.campaigns.rules counted over the same accounts, so it is the number the funnel removes or
keeps, not a sum of bins (a bin can straddle the range's edge).

Each is one GROUP BY over a bucket expression, so the pool never comes into Python. The bucket
is a CASE ladder rather than floor() or a cast: SQLite may lack floor() and PostgreSQL's cast
rounds, and the ladder counts a value on a bin edge in the upper bin on both. No Flask here.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import Session

from perks.campaigns import rules
from perks.campaigns.matching import context, matched_pool
from perks.campaigns.rules import ACCOUNTS
from perks.models import Campaign

BINS = 20


@dataclass
class Bin:
    start: float
    end: float
    count: int
    marked: bool  # inside the campaign's range (score) or at/over its threshold (bot)


@dataclass
class Histogram:
    title: str
    unit: str
    low: float
    high: float
    bins: list[Bin]
    missing: int  # accounts of the population without a value
    marks: list[tuple[float, str]]  # (value, label) drawn as vertical lines
    marked: int = 0  # the stage rule's count: inside the range / flagged and not cleared

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bins)

    @property
    def tallest(self) -> int:
        return max((b.count for b in self.bins), default=0)

    def position(self, value: float) -> float:
        """`value` as a share of the axis, 0–1, clamped."""
        return min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))


@dataclass
class CampaignCharts:
    score: Histogram
    bot: Histogram


def bucket(value: ColumnElement, *, low: float, high: float, bins: int = BINS) -> ColumnElement:
    """The 0-based bin of `value` over [low, high]; the top edge falls in the last bin, NULL
    stays NULL, values outside the axis are clamped to the first or last bin."""
    return case(*[(value < _edge(low, high, i, bins), i - 1) for i in range(1, bins)],
                else_=case((value.is_(None), None), else_=bins - 1))


def _counts(session: Session, ctx: rules.Context, value: ColumnElement, *, low: float,
            high: float, stages: tuple[str, ...], selected: ColumnElement[bool],
            ) -> tuple[list[int], int, int]:
    """Bin counts, the count without a value and the count `selected` holds for, over the
    accounts that pass the topic stage and `stages`."""
    _matched, source, passed = matched_pool(ctx, stages)
    key = bucket(value, low=low, high=high).label("bucket")
    rows = session.execute(
        select(key, func.count(), func.sum(case((selected, 1), else_=0)))
        .select_from(source).where(passed).group_by(key))
    counts, missing, chosen = [0] * BINS, 0, 0
    for index, count, n_selected in rows:
        chosen += int(n_selected or 0)
        if index is None:
            missing += int(count)
        else:
            counts[int(index)] += int(count)
    return counts, missing, chosen


def _edge(low: float, high: float, i: int, bins: int) -> float:
    # (high - low) * i / bins, not low + width * i: 0.15 stays 0.15, so edges match the SQL
    return low + (high - low) * i / bins


def _bins(counts: list[int], *, low: float, high: float, marked) -> list[Bin]:
    edges = [_edge(low, high, i, len(counts)) for i in range(len(counts) + 1)]
    return [Bin(edges[i], edges[i + 1], n, marked(edges[i], edges[i + 1]))
            for i, n in enumerate(counts)]


def score_histogram(session: Session, campaign: Campaign, *, bot_threshold: float,
                    today: date | None = None) -> Histogram:
    """The targeted score of the topic-matched pool; bins overlapping the range are marked and
    `marked` counts the accounts the score stage keeps."""
    ctx = context(session, campaign, bot_threshold=bot_threshold, today=today)
    percentile = campaign.score_mode == "percentile"
    in_range = rules.passes(ACCOUNTS, ctx, ("score",))
    counts, missing, kept = _counts(session, ctx, ACCOUNTS.value(campaign), low=0.0, high=100.0,
                                    stages=(), selected=in_range)
    lo, hi = campaign.score_min, campaign.score_max
    return Histogram(
        title=("Percentile" if percentile else "Influence score") + " of the topic-matched pool",
        unit="percentile" if percentile else "score", low=0.0, high=100.0,
        bins=_bins(counts, low=0.0, high=100.0, marked=lambda s, e: s <= hi and e > lo),
        missing=missing, marks=[(lo, f"from {lo:g}"), (hi, f"to {hi:g}")], marked=kept)


def bot_histogram(session: Session, campaign: Campaign, *, bot_threshold: float,
                  today: date | None = None) -> Histogram:
    """Bot probability of the accounts the flagged stage looks at; bins at or over the
    threshold are marked and `marked` counts what the stage removes (rule flags included,
    reviewers' "genuine" excluded)."""
    ctx = context(session, campaign, bot_threshold=bot_threshold, today=today)
    flag_rule = next(r for r in rules.RULES if r.stage == "flagged")
    counts, missing, removed = _counts(
        session, ctx, rules.bot_probability(ACCOUNTS, ctx), low=0.0, high=1.0,
        stages=("score", "audience", "privacy"), selected=flag_rule.excludes(ACCOUNTS, ctx))
    return Histogram(
        title="Bot probability of the accounts that pass the earlier stages",
        unit="bot probability", low=0.0, high=1.0,
        bins=_bins(counts, low=0.0, high=1.0, marked=lambda s, e: e > bot_threshold),
        missing=missing, marks=[(bot_threshold, f"threshold {bot_threshold:.2f}")],
        marked=removed)


def campaign_charts(session: Session, campaign: Campaign, *, bot_threshold: float,
                    today: date | None = None) -> CampaignCharts:
    """Both histograms for the campaign page (two aggregate queries)."""
    return CampaignCharts(
        score=score_histogram(session, campaign, bot_threshold=bot_threshold, today=today),
        bot=bot_histogram(session, campaign, bot_threshold=bot_threshold, today=today))
