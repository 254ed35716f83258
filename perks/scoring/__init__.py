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
from perks.scoring.run import ScoreSummary, load_detector, score_pool

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
