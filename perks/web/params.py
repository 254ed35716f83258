"""Numbers from query strings and forms, parsed in one place: ASCII digits only (Unicode digits
such as "²" pass str.isdigit() but not int()), within a range that fits the database's 64-bit
keys and offsets. A bad value is a 400 that names the parameter, never a 500."""

from flask import abort, request

MAX_ID = 2**62  # ids and versions; below every backend's 64-bit limit, with room for offsets
MAX_PAGE = 10**6


def parse_int(raw: str | None, name: str, *, low: int = 1, high: int = MAX_ID) -> int:
    """`raw` as an int from `low` to `high`, or abort with a 400 naming `name`."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 20 and low <= int(text) <= high):
        abort(400, f"{name} must be a whole number from {low} to {high}")
    return int(text)


def int_arg(name: str, default: int | None = None, *, low: int = 1, high: int = MAX_ID,
            source=None) -> int | None:
    """The query (or `source`) parameter `name` as an int, `default` when absent or empty."""
    raw = (request.args if source is None else source).get(name)
    if raw is None or raw == "":
        return default
    return parse_int(raw, name, low=low, high=high)


def page_arg(name: str = "page") -> int:
    """A page number: 1 when absent."""
    return int_arg(name, 1, high=MAX_PAGE)  # type: ignore[return-value]


def id_list(name: str) -> list[int]:
    """Every value of the form field `name` as an id."""
    return [parse_int(raw, name) for raw in request.form.getlist(name)]
