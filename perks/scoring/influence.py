"""The influence score: five named components, each 0-100, and their weighted sum (0-100).

Everything here is vectorised numpy over columns, one element per account; `docs/scoring.md`
writes the same formula out for a marketer. Change a number below and you must bump
SCORE_VERSION: `perks score` then keeps the old scores as snapshots and reports what moved.

Ages and rates are measured from when the profile was observed (`observed_at`), never from
today, so re-scoring an old import gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

SCORE_VERSION = "1"

OK = "ok"
NOT_ENOUGH_DATA = "not enough data"
CONFIDENCE_STATES = (OK, NOT_ENOUGH_DATA)
MIN_AGE_DAYS = 30  # younger accounts (at observation) are "not enough data"
MIN_POSTS = 20  # so are accounts with fewer posts in total

REACH_FULL_FOLLOWERS = 1e7  # reach is 100 at ten million followers
LISTS_FULL = 1e5  # the list part of authority is 100 at 100,000 lists
LISTS_PER_1000_FULL = 50.0  # ... and the rate part at 50 lists per 1,000 followers
MIN_AUDIENCE = 100  # smaller audiences count as 100 in per-follower rates
AUDIENCE_PER_POST_FULL = 100.0  # attention is 100 at 100 followers per post ever written
ACTIVE_POSTS_PER_DAY = 0.5  # activity is 86 at 1 post a day, 98 at 2
FLOOD_POSTS_PER_DAY = 50.0  # beyond this activity fades ...
FLOOD_ZERO_FACTOR = 100.0  # ... and reaches 0 at 100x that (5,000 posts a day)
GROWTH_FULL_PER_DAY = 1000.0  # growth is 100 at 1,000 new followers a day
GROWTH_MIN_DAYS = 30  # growth is averaged over at least this many days


@dataclass(frozen=True)
class Component:
    """One named part of the score: what it measures and its weight in the total."""

    name: str
    label: str
    weight: float
    measures: str


COMPONENTS = (
    Component("reach", "Reach", 0.35, "how many people follow the account (log scale)"),
    Component("authority", "Authority", 0.20,
              "how often others put the account on their lists, in total and per follower"),
    Component("engagement", "Engagement", 0.20,
              "audience per post written, and liking others' posts rather than only posting"),
    Component("activity", "Activity", 0.10,
              "posts regularly; saturates at a few posts a day and fades for floods"),
    Component("growth", "Growth", 0.15,
              "followers gained per day of the account's age at observation (log scale)"),
)
COMPONENT_NAMES = tuple(component.name for component in COMPONENTS)
WEIGHTS = {component.name: component.weight for component in COMPONENTS}

# The columns `InfluenceInputs.from_rows` expects, in order.
INPUT_COLUMNS = ("followers_count", "statuses_count", "favourites_count", "listed_count",
                 "posts_per_day", "age_days")


@dataclass(frozen=True)
class InfluenceInputs:
    """Score inputs as float arrays of equal length; NaN means unknown (age, posts per day)."""

    followers: np.ndarray
    statuses: np.ndarray
    favourites: np.ndarray
    listed: np.ndarray
    posts_per_day: np.ndarray  # measured from a timeline, or NaN
    age_days: np.ndarray  # observed_at - created_at in days, or NaN

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> InfluenceInputs:
        """From rows holding the INPUT_COLUMNS in order (None = unknown)."""
        if not rows:
            empty = np.empty(0)
            return cls(empty, empty, empty, empty, empty, empty)
        table = np.array(rows, dtype=np.float64).reshape(len(rows), len(INPUT_COLUMNS))
        counts = np.nan_to_num(table[:, :4], nan=0.0).clip(min=0).T
        return cls(*counts, posts_per_day=table[:, 4], age_days=table[:, 5])

    @classmethod
    def from_accounts(cls, accounts: Iterable[Mapping[str, Any]]) -> InfluenceInputs:
        """From account-like mappings with Account field names (`created_at`, `observed_at`)."""
        rows = [(a.get("followers_count"), a.get("statuses_count"), a.get("favourites_count"),
                 a.get("listed_count"), a.get("posts_per_day"),
                 age_in_days(a.get("created_at"), a.get("observed_at"))) for a in accounts]
        return cls.from_rows(rows)


def age_in_days(created_at: datetime | None, observed_at: datetime | None) -> float | None:
    """Days between opening the account and observing the profile (never from today)."""
    if created_at is None or observed_at is None:
        return None
    return (observed_at - created_at).total_seconds() / 86400


@dataclass(frozen=True)
class InfluenceScores:
    """Per-account components (0-100, NaN when not computable), score and confidence."""

    components: dict[str, np.ndarray]
    score: np.ndarray
    enough_data: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.score)

    def confidence(self) -> list[str]:
        return [OK if enough else NOT_ENOUGH_DATA for enough in self.enough_data.tolist()]

    def component_dicts(self) -> list[dict[str, float | None]]:
        """One JSON-ready dict per account: component name -> value, None when unknown."""
        columns = [np.where(np.isnan(self.components[n]), None, self.components[n]).tolist()
                   for n in COMPONENT_NAMES]
        rows = zip(*columns, strict=True)
        return [dict(zip(COMPONENT_NAMES, values, strict=True)) for values in rows]


def score_influence(inputs: InfluenceInputs) -> InfluenceScores:
    """Compute every component, the weighted score and the confidence for a batch of accounts.

    Components are rounded to one decimal and the score to two, so the stored numbers and the
    documented formula agree. An unknown component (no creation date: no growth, and no
    activity unless posts per day were measured) counts as 0 and makes the confidence
    "not enough data".
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        components = {
            "reach": _reach(inputs),
            "authority": _authority(inputs),
            "engagement": _engagement(inputs),
            "activity": _activity(inputs),
            "growth": _growth(inputs),
        }
    components = {name: np.round(100.0 * values, 1) for name, values in components.items()}
    score = sum(WEIGHTS[name] * np.nan_to_num(values, nan=0.0)
                for name, values in components.items())
    score = np.round(np.clip(score, 0.0, 100.0), 2) if len(inputs.followers) else np.empty(0)
    known_age = ~np.isnan(inputs.age_days)
    enough = known_age & (np.nan_to_num(inputs.age_days, nan=0.0) >= MIN_AGE_DAYS)
    enough &= inputs.statuses >= MIN_POSTS
    return InfluenceScores(components=components, score=score, enough_data=enough)


def _log_share(value: np.ndarray, full: float) -> np.ndarray:
    """log10(1 + value) as a share of log10(1 + full), capped at 1."""
    return np.minimum(1.0, np.log10(1.0 + value) / np.log10(1.0 + full))


def _reach(x: InfluenceInputs) -> np.ndarray:
    return _log_share(x.followers, REACH_FULL_FOLLOWERS)


def _authority(x: InfluenceInputs) -> np.ndarray:
    # Split 60/40 so that, with lists fixed, more followers never lowers the total score:
    # the rate part falls at most as fast as reach rises.
    lists_per_1000 = 1000.0 * x.listed / np.maximum(x.followers, MIN_AUDIENCE)
    return 0.6 * _log_share(x.listed, LISTS_FULL) + 0.4 * _log_share(
        lists_per_1000, LISTS_PER_1000_FULL)


def _engagement(x: InfluenceInputs) -> np.ndarray:
    # Attention: followers per post ever written; flooding the timeline dilutes it.
    attention = _log_share(x.followers / np.maximum(x.statuses, 1.0), AUDIENCE_PER_POST_FULL)
    # Interaction: the share of the account's actions that are likes of other people's posts.
    interaction = x.favourites / (x.favourites + np.maximum(x.statuses, 1.0))
    return 0.5 * attention + 0.5 * interaction


def posting_rate(x: InfluenceInputs) -> np.ndarray:
    """Posts per day: measured when the import had a timeline, else the lifetime average."""
    lifetime = x.statuses / np.maximum(x.age_days, 1.0)
    return np.where(np.isnan(x.posts_per_day), lifetime, x.posts_per_day)


def _activity(x: InfluenceInputs) -> np.ndarray:
    rate = np.maximum(posting_rate(x), 0.0)
    rises = 1.0 - np.exp(-rate / ACTIVE_POSTS_PER_DAY)
    fades = 1.0 - np.log10(np.maximum(rate, FLOOD_POSTS_PER_DAY) / FLOOD_POSTS_PER_DAY) / (
        np.log10(FLOOD_ZERO_FACTOR))
    return rises * np.clip(fades, 0.0, 1.0)  # NaN stays NaN: rate unknown


def _growth(x: InfluenceInputs) -> np.ndarray:
    per_day = x.followers / np.maximum(x.age_days, GROWTH_MIN_DAYS)
    # x10 so that one follower a day already shows (26), a hundred a day is 75.
    return _log_share(10.0 * per_day, 10.0 * GROWTH_FULL_PER_DAY)


def percentile_ranks(scores: np.ndarray, pool_sorted: np.ndarray) -> np.ndarray:
    """Percentile rank (0-100) of each score within a pool given as a sorted array.

    The share of the pool scoring lower plus half the share scoring the same, so equal scores
    get equal percentiles and the median account is at 50.
    """
    if len(pool_sorted) == 0:
        return np.full(len(scores), np.nan)
    below = np.searchsorted(pool_sorted, scores, side="left")
    up_to = np.searchsorted(pool_sorted, scores, side="right")
    return np.round(100.0 * (below + 0.5 * (up_to - below)) / len(pool_sorted), 2)
