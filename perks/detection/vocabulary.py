"""The strictness vocabulary: its names and the aliases stored data may still use.

Stdlib only, so the detector, the policy and the campaign schema share it without cycles.
"""

from typing import Any

STRICTNESS = ("lenient", "balanced", "strict")
ALIASES = {"standard": "balanced"}


def normalise_strictness(value: str) -> str:
    """The canonical name ("Standard" -> "balanced"); other strings come back lower-cased."""
    name = str(value).strip().lower()
    return ALIASES.get(name, name)


def is_named(value: Any) -> bool:
    return isinstance(value, str) and normalise_strictness(value) in STRICTNESS
