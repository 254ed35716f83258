"""Scoring stage: the transparent influence score, percentiles, topics and bot probabilities."""

from perks.scoring.influence import (
    COMPONENTS,
    NOT_ENOUGH_DATA,
    OK,
    SCORE_VERSION,
    InfluenceInputs,
    InfluenceScores,
    score_influence,
)

# The run loads numpy, scipy and the topic model; pages that only show a score (through
# perks.scoring.influence or .history) should not wait for that, so its names load on first use.
_RUN_NAMES = ("ScoreSummary", "load_detector", "score_pool")


def __getattr__(name: str) -> object:
    if name in _RUN_NAMES:
        from perks.scoring import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COMPONENTS",
    "NOT_ENOUGH_DATA",
    "OK",
    "SCORE_VERSION",
    "InfluenceInputs",
    "InfluenceScores",
    "ScoreSummary",
    "load_detector",
    "score_pool",
    "score_influence",
]
