"""Topics: the taxonomy (bundled, or the operator's own) and keyword-based topic inference.

No Flask and no database here: ``perks.scoring.topic_rows`` stores what ``TopicInferrer``
finds, and ``perks.cli.topics`` is the ``perks topics`` command.
"""

from perks.topics.infer import CASHTAG_MARK, MAX_PHRASE_WORDS, TopicInferrer, TopicMatch, weight_for
from perks.topics.taxonomy import (
    TopicDef,
    current_taxonomy,
    fingerprint,
    load_taxonomy,
    missing_slugs,
    suggest_slugs,
    unknown_slugs_message,
)

__all__ = [
    "CASHTAG_MARK", "MAX_PHRASE_WORDS", "TopicDef", "TopicInferrer", "TopicMatch",
    "current_taxonomy", "fingerprint",
    "load_taxonomy", "missing_slugs", "suggest_slugs", "unknown_slugs_message", "weight_for",
]
