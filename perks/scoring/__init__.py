"""Scoring stage: the transparent influence score, percentiles, topics and bot probabilities."""

# The names below load their module (numpy; for the run also scipy and the topic model) on
# first use, so a page that only reads a score's history (perks.scoring.history) waits for none.
_INFLUENCE = ("COMPONENTS", "NOT_ENOUGH_DATA", "OK", "SCORE_VERSION", "InfluenceInputs",
              "InfluenceScores", "score_influence")
_RUN = ("ScoreSummary", "load_detector", "score_pool")

__all__ = sorted(_INFLUENCE + _RUN)


def __getattr__(name: str) -> object:
    if name in _INFLUENCE:
        from perks.scoring import influence

        return getattr(influence, name)
    if name in _RUN:
        from perks.scoring import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
