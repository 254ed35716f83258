"""Platform names: one canonical spelling per platform.

Accounts are stored, suppressed, removed and opted out under this name, so "X", " Twitter "
and "x" are one platform (X is Twitter renamed) and a forgotten account cannot come back
under another spelling.
"""

DEFAULT_PLATFORM = "twitter"
ANY_PLATFORM = "*"  # a removal or opt-out that names no platform covers them all
ALIASES = {"x": "twitter", "x.com": "twitter", "twitter.com": "twitter"}


def canonical_platform(name: object) -> str:
    """The canonical name of a platform spelling; empty or missing means twitter."""
    text = str(name if name is not None else "").strip().lower()
    return ALIASES.get(text, text) if text else DEFAULT_PLATFORM
