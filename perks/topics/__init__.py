"""Topics: the taxonomy (bundled, or the operator's own) and keyword-based topic inference.

No Flask and no database here: ``perks.scoring.topic_rows`` stores what ``TopicInferrer``
finds, and ``perks.cli.topics`` is the ``perks topics`` command.
"""

from typing import Any

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

# The inferrer needs numpy; commands that only read the taxonomy (`perks campaign list`, every
# campaign form) should not pay for loading it.
_INFER_NAMES = {"CASHTAG_MARK", "MAX_PHRASE_WORDS", "TopicInferrer", "TopicMatch", "weight_for"}


def __getattr__(name: str) -> Any:
    if name in _INFER_NAMES:
        from perks.topics import infer

        return getattr(infer, name)
    raise AttributeError(f"module 'perks.topics' has no attribute {name!r}")
