"""Charts for the campaign page: histograms of the topic-matched pool, counted in SQL.

Two histograms, each of 20 equal bins over the topic-matched pool (the accounts left after
the funnel's topic stage, whatever the later stages do):

- score: the campaign's targeted value (influence score or percentile, both 0–100), with the
  campaign's range marked; unscored accounts are counted apart;
- bot probability (0–1), with the campaign's threshold marked; accounts not yet assessed are
  counted apart.

Each is one GROUP BY over a bucket expression, so the pool never comes into Python. The bucket
is a CASE ladder rather than floor() or a cast: SQLite may lack floor() and PostgreSQL's cast
rounds, and the ladder counts a value on a bin edge in the upper bin on both. No Flask here.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import Session

from perks.campaigns.matching import conditions
from perks.models import Account, Campaign

BINS = 20
account = Account.__table__


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
    missing: int  # topic-matched accounts without a value
    marks: list[tuple[float, str]]  # (value, label) drawn as vertical lines

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bins)

    @property
    def tallest(self) -> int:
        return max((b.count for b in self.bins), default=0)

    @property
    def marked(self) -> int:
        return sum(b.count for b in self.bins if b.marked)

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


def _counts(session: Session, campaign: Campaign, value: ColumnElement, *, low: float,
            high: float, bot_threshold: float, today: date | None) -> tuple[list[int], int]:
    matched = conditions(session, campaign, bot_threshold=bot_threshold,
                         today=today).topic_match()
    key = bucket(value, low=low, high=high).label("bucket")
    rows = session.execute(
        select(key, func.count())
        .select_from(matched.join(account, account.c.id == matched.c.account_id))
        .group_by(key))
    counts, missing = [0] * BINS, 0
    for index, count in rows:
        if index is None:
            missing += int(count)
        else:
            counts[int(index)] += int(count)
    return counts, missing


def _edge(low: float, high: float, i: int, bins: int) -> float:
    # (high - low) * i / bins, not low + width * i: 0.15 stays 0.15, so edges match the SQL
    return low + (high - low) * i / bins


def _bins(counts: list[int], *, low: float, high: float, marked) -> list[Bin]:
    edges = [_edge(low, high, i, len(counts)) for i in range(len(counts) + 1)]
    return [Bin(edges[i], edges[i + 1], n, marked(edges[i], edges[i + 1]))
            for i, n in enumerate(counts)]


def score_histogram(session: Session, campaign: Campaign, *, bot_threshold: float,
                    today: date | None = None) -> Histogram:
    """The targeted score of the topic-matched pool; bins overlapping the range are marked."""
    percentile = campaign.score_mode == "percentile"
    value = account.c.influence_percentile if percentile else account.c.influence_score
    counts, missing = _counts(session, campaign, value, low=0.0, high=100.0,
                              bot_threshold=bot_threshold, today=today)
    lo, hi = campaign.score_min, campaign.score_max
    return Histogram(
        title=("Percentile" if percentile else "Influence score") + " of the topic-matched pool",
        unit="percentile" if percentile else "score", low=0.0, high=100.0,
        bins=_bins(counts, low=0.0, high=100.0, marked=lambda s, e: s <= hi and e > lo),
        missing=missing, marks=[(lo, f"from {lo:g}"), (hi, f"to {hi:g}")])


def bot_histogram(session: Session, campaign: Campaign, *, bot_threshold: float,
                  today: date | None = None) -> Histogram:
    """Bot probability of the topic-matched pool; bins at or over the threshold are marked."""
    counts, missing = _counts(session, campaign, account.c.bot_probability, low=0.0, high=1.0,
                              bot_threshold=bot_threshold, today=today)
    return Histogram(
        title="Bot probability of the topic-matched pool", unit="bot probability",
        low=0.0, high=1.0,
        bins=_bins(counts, low=0.0, high=1.0, marked=lambda s, e: e > bot_threshold),
        missing=missing, marks=[(bot_threshold, f"threshold {bot_threshold:.2f}")])


def campaign_charts(session: Session, campaign: Campaign, *, bot_threshold: float,
                    today: date | None = None) -> CampaignCharts:
    """Both histograms for the campaign page (two aggregate queries)."""
    return CampaignCharts(
        score=score_histogram(session, campaign, bot_threshold=bot_threshold, today=today),
        bot=bot_histogram(session, campaign, bot_threshold=bot_threshold, today=today))
