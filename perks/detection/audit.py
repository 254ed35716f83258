"""The pool audit's statistics: how many bots are really in a pool, and what each strictness
does on it, from reviewers' decisions on a uniform random sample of the pool.

Only a uniform sample estimates the pool: the review queue shows the most suspicious accounts
first, so its decisions say nothing about the share of bots. The bot share gets a 95 % Wilson
score interval (it keeps close to its nominal coverage at the sample sizes and shares a pool
audit has: tests/test_audit.py checks >= 90 % coverage over 200 simulated pools). Precision,
recall and the genuine accounts flagged at each threshold are read off the same sample, each
with its interval, since 50 decisions leave wide ones. No database here (perks.review.audit
draws the sample and reads the decisions).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959964
DEFAULT_SAMPLE = 50
MIN_DECIDED = 10  # fewer decided sample accounts than this: no estimate is shown


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # Rounding keeps the ends exact at 0 and 1 (no bot seen, every account a bot).
    return max(0.0, round(centre - half, 12)), min(1.0, round(centre + half, 12))


@dataclass(frozen=True)
class Share:
    count: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.n else None

    @classmethod
    def of(cls, count: int, n: int) -> "Share":
        low, high = wilson_interval(count, n)
        return cls(int(count), int(n), low, high)


@dataclass(frozen=True)
class AtThreshold:
    name: str
    threshold: float
    precision: Share  # bots among the flagged sample accounts
    recall: Share  # flagged among the sample's bots
    genuine_flagged: Share  # flagged among the sample's genuine accounts


@dataclass(frozen=True)
class PoolEstimate:
    pool_size: int
    sample_size: int
    decided: int
    bot_share: Share
    bots_in_pool: tuple[int, int]  # the interval, in accounts
    settings: list[AtThreshold]


@dataclass(frozen=True)
class SampleItem:
    probability: float | None
    rule_flagged: bool
    is_bot: bool | None  # None: not decided yet, or "unsure"


def _flagged(item: SampleItem, threshold: float) -> bool:
    return item.rule_flagged or (item.probability is not None and item.probability >= threshold)


def estimate(items: Sequence[SampleItem], *, pool_size: int,
             thresholds: Sequence[tuple[str, float]]) -> PoolEstimate | None:
    """The pool's bot share and each threshold's figures; None below MIN_DECIDED decisions."""
    decided = [i for i in items if i.is_bot is not None]
    if len(decided) < MIN_DECIDED:
        return None
    bots = [i for i in decided if i.is_bot]
    genuine = [i for i in decided if not i.is_bot]
    share = Share.of(len(bots), len(decided))
    settings = []
    for name, t in thresholds:
        flagged = [i for i in decided if _flagged(i, t)]
        settings.append(AtThreshold(
            name, t,
            precision=Share.of(sum(i.is_bot for i in flagged), len(flagged)),
            recall=Share.of(sum(_flagged(i, t) for i in bots), len(bots)),
            genuine_flagged=Share.of(sum(_flagged(i, t) for i in genuine), len(genuine))))
    return PoolEstimate(pool_size, len(items), len(decided), share,
                        (round(share.low * pool_size), round(share.high * pool_size)), settings)


def threshold_for_tolerance(items: Sequence[SampleItem], tolerated: float) -> float | None:
    """The lowest threshold that flags at most `tolerated` (a share) of the sample's genuine
    accounts by probability (rule flags come on top and are not moved by a threshold); None
    without decided genuine accounts."""
    genuine = sorted((i.probability for i in items
                      if i.is_bot is False and i.probability is not None), reverse=True)
    if not genuine:
        return None
    allowed = math.floor(tolerated * len(genuine) + 1e-9)  # genuine accounts we may flag
    if allowed >= len(genuine):
        return 0.0
    # The smallest two-decimal threshold above the (allowed+1)-th most suspicious genuine
    # account's probability, so that one and all below it stay unflagged.
    return min(1.0, math.floor(genuine[allowed] * 100 + 1e-9) / 100 + 0.01)
