"""Validate a batch of raw records column by column: the import's fast path.

`normalize_record` (perks.importing.records) stays the one definition of what a clean record
is and of every reject's field and reason. This module only spares it the common case: each
column of a batch is checked with one comprehension that accepts the values already in their
final form (a JSON int count in range, a UTC datetime, a short clean string) and hands any
other value to the same parse_* function the row-wise path calls. A row where any value is
not decided that way (an error, a tweet wrapper, a future observation) is re-done whole by
`normalize_record`, so it gets exactly the error, or the record, the row-wise path gives.
"""

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from itertools import product, repeat
from operator import attrgetter, is_not, le
from types import NoneType
from typing import Any

from perks.importing.records import (
    _HANDLE_RE,
    _ID_RE,
    _MISSING,
    _PLATFORM_RE,
    COUNT_FIELDS,
    FLAG_FIELDS,
    FUTURE_TOLERANCE,
    OBSERVED_AT_FIELDS,
    OPTIONAL_COUNTS,
    SHARE_FIELDS,
    TEXT_LIMITS,
    RowError,
    is_missing,
    normalize_record,
    parse_bool,
    parse_float,
    parse_int,
    parse_text,
    parse_time,
    parse_topics,
)
from perks.importing.shapes import canonical, looks_like_no_user, unwrap
from perks.models import ACTIVITY_FIELDS, CONSENT_STATES
from perks.platforms import canonical_platform

_BAD = object()  # "not decided here": the row goes through normalize_record
_MAX_COUNT = 10**12
_FLOAT_MAX = sys.float_info.max
_WRAPPERS = frozenset(("user", "profile", "public_metrics"))  # keys unwrap looks into
# Every upper/lower-case spelling of the missing markers, for a set test of a whole column.
_MISSING_SPELLINGS = frozenset(
    "".join(letters) for word in _MISSING
    for letters in product(*({c.lower(), c.upper()} for c in word)))


def _try(parse: Callable[..., Any], value: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return parse(value, *args, **kwargs)
    except RowError:
        return _BAD


def _memo(column: list[Any], decide: Callable[[Any], Any]) -> list[Any]:
    """`decide` once per distinct text (platforms, consent, flags spelled as text)."""
    seen: dict[Any, Any] = {}
    out = []
    for value in column:
        if type(value) is str or value is None:
            if value not in seen:
                seen[value] = decide(value)
            out.append(seen[value])
        else:
            out.append(_BAD)
    return out


def _kinds(column: list[Any]) -> set[type]:
    return set(map(type, column))  # runs in C: a uniform column is checked without a loop


def _present(column: list[Any]) -> list[Any]:
    return list(filter(partial(is_not, None), column))


def _ids(id_str: list[Any], ids: list[Any]) -> list[Any]:
    if _kinds(id_str) == {NoneType} and _kinds(ids) == {int} and min(ids) >= 0 and max(
            ids) < 10**64:
        return list(map(str, ids))
    out = []
    for given, fallback in zip(id_str, ids, strict=True):
        value = fallback if given is None else given
        if type(value) is int and 0 <= value < 10**64:
            out.append(str(value))
        elif (type(value) is str and _ID_RE.fullmatch(value)
              and value.lower() not in _MISSING):
            out.append(value)
        else:
            out.append(_BAD)
    return out


def _platform(value: Any) -> Any:
    platform = canonical_platform(value)
    return platform if _PLATFORM_RE.fullmatch(platform) else _BAD


def _handles(column: list[Any]) -> list[Any]:
    return [v if type(v) is str and _HANDLE_RE.fullmatch(v) and v.lower() not in _MISSING
            else _BAD for v in column]


def _texts(column: list[Any], field: str) -> list[Any]:
    limit = TEXT_LIMITS[field]
    kinds = _kinds(column)
    if kinds == {NoneType}:
        return column
    if kinds <= {str, NoneType}:
        given = column if NoneType not in kinds else _present(column)
        stripped = list(map(str.strip, given))
        if (_MISSING_SPELLINGS.isdisjoint(stripped) and max(map(len, stripped)) <= limit
                and "\x00" not in "".join(given)):
            # Nothing missing, nothing too long, no NUL to drop.
            return stripped if given is column else [
                None if v is None else v.strip() for v in column]
    out = []
    for value in column:
        if value is None:
            out.append(None)
        elif type(value) is str and "\x00" not in value:
            text = value.strip()
            if len(text) <= 4 and text.lower() in _MISSING:
                out.append(None)
            else:
                out.append(text if len(text) <= limit else _BAD)
        else:
            out.append(_try(parse_text, value, field))
    return out


def _ints(column: list[Any], field: str, *, minimum: int = 0,
          maximum: int = _MAX_COUNT) -> list[Any]:
    kinds = _kinds(column)
    if kinds <= {int, NoneType}:
        present = column if NoneType not in kinds else _present(column)
        if not present or (minimum <= min(present) and max(present) <= maximum):
            return column
    return [v if (type(v) is int and minimum <= v <= maximum) or v is None
            else _try(parse_int, v, field, minimum=minimum, maximum=maximum) for v in column]


def _floats(column: list[Any], field: str, *, minimum: float = 0.0,
            maximum: float = math.inf) -> list[Any]:
    low, high = max(minimum, -_FLOAT_MAX), min(maximum, _FLOAT_MAX)  # finite, like parse_float
    kinds = _kinds(column)
    if kinds <= {float, NoneType}:
        present = column if NoneType not in kinds else _present(column)
        # A NaN or an infinity makes the sum NaN or infinite (so does an overflow: then
        # the values are checked one by one, which is only slower).
        if not present or (math.isfinite(sum(present)) and low <= min(present)
                           and max(present) <= high):
            return column
    return [v if (type(v) is float and low <= v <= high) or v is None
            else _try(parse_float, v, field, minimum=minimum, maximum=maximum) for v in column]


def _bools(column: list[Any], field: str) -> list[Any]:
    if _kinds(column) <= {bool, NoneType}:
        return column
    return [v if type(v) is bool or v is None else _try(parse_bool, v, field) for v in column]


def _flags(column: list[Any], field: str) -> list[Any]:
    if _kinds(column) == {bool}:
        return column
    return [v if type(v) is bool else _flag(v, field) for v in column]


def _flag(value: Any, field: str) -> Any:
    flag = _try(parse_bool, value, field)
    return flag if flag is _BAD else bool(flag)


def _times(column: list[Any], field: str) -> list[Any]:
    kinds = _kinds(column)
    if kinds == {NoneType} or (kinds == {datetime} and set(
            map(attrgetter("tzinfo"), column)) == {UTC}):
        return column
    return [v if v is None or (type(v) is datetime and v.tzinfo is UTC)
            else _try(parse_time, v, field) for v in column]


def _consent(value: Any) -> Any:
    consent = ("unknown" if is_missing(value)
               else str(value).strip().lower().replace("-", "_"))
    return consent if consent in CONSENT_STATES else _BAD


def _person(value: Any) -> Any:
    if value is None:
        return None
    return None if is_missing(value) else str(value).strip()[:200]


def _observed(when: Any, given: Any, crawled: Any, updated: Any, stamp: Any, *,
              default: datetime, latest: datetime) -> Any:
    """normalize_record's observation time (the first field given, in OBSERVED_AT_FIELDS
    order), or _BAD when normalize_record would reject the row for a time."""
    moment = (given if given is not None else crawled if crawled is not None
              else updated if updated is not None else stamp if stamp is not None
              else default)
    if (moment is _BAD or moment > latest or _BAD in (crawled, updated, stamp)
            or (when is not None and (when is _BAD or when > moment))):
        return _BAD
    return moment


def _columns(users: Sequence[Mapping[str, Any]], *, default_observed_at: datetime,
             now: datetime) -> tuple[list[str], list[list[Any]]]:
    """(field names, one list of values per field) in normalize_record's key order."""
    if all(type(user) is dict for user in users):
        def col(name: str) -> list[Any]:
            return list(map(dict.get, users, repeat(name)))  # the loop runs in C
    else:
        def col(name: str) -> list[Any]:
            return [user.get(name) for user in users]

    names: list[str] = []
    cols: list[list[Any]] = []

    def put(name: str, values: list[Any]) -> None:
        names.append(name)
        cols.append(values)

    put("platform_id", _ids(col("id_str"), col("id")))
    put("platform", _memo(col("platform"), _platform))
    put("screen_name", _handles(col("screen_name")))
    for field in ("name", "description", "location", "lang", "url"):
        put(field, _texts(col(field), field))
    put("post_text", _texts([v or None for v in col("post_text")], "post_text"))
    missing: dict[str, list[bool]] = {}
    for field in COUNT_FIELDS:
        counts = _ints(col(field), field)
        if field in OPTIONAL_COUNTS:
            missing[field] = [v is None for v in counts]
            counts = [0 if v is None else v for v in counts]
        else:
            counts = [_BAD if v is None else v for v in counts]
        put(field, counts)
    if any(map(any, missing.values())):
        flags = zip(*missing.values(), strict=True)
        put("unknown_counts", [[f for f, m in zip(missing, row, strict=True) if m] or None
                               for row in flags])
    else:
        put("unknown_counts", [None] * len(users))
    for field in FLAG_FIELDS:
        put(field, _flags(col(field), field))
    put("profile_use_background_image",
        _bools(col("profile_use_background_image"), "profile_use_background_image"))
    created = _times(col("created_at"), "created_at")
    observed_columns = [_times(col(f), f) for f in OBSERVED_AT_FIELDS]
    latest = now + FUTURE_TOLERANCE
    given = observed_columns[0]
    if (_kinds(given) == {datetime} and max(given) <= latest
            and all(_kinds(c) == {NoneType} for c in observed_columns[1:])
            and _kinds(created) == {datetime} and all(map(le, created, given))):
        observed = given  # the common case: every record says when it was observed
    else:
        observed = [_observed(when, *seen, default=default_observed_at, latest=latest)
                    for when, *seen in zip(created, *observed_columns, strict=True)]
    put("created_at", created)
    put("observed_at", observed)
    persons = col("person_id")
    put("person_key", persons if _kinds(persons) == {NoneType} else list(map(_person, persons)))
    put("birth_year", _ints(col("birth_year"), "birth_year", minimum=1900, maximum=2100))
    put("is_minor", _bools(col("is_minor"), "is_minor"))
    put("consent", _memo(col("consent"), _consent))
    put("external_score", _floats(col("external_score"), "external_score", minimum=-math.inf))
    for field in ACTIVITY_FIELDS:
        if field == "distinct_sources":
            put(field, _ints(col(field), field, maximum=10_000))
        else:
            put(field, _floats(col(field), field,
                               maximum=1.0 if field in SHARE_FIELDS else math.inf))
    topics = col("topics")
    put("topics", topics if _kinds(topics) == {NoneType}
        else [None if v is None else _try(parse_topics, v) for v in topics])
    return names, cols


def normalize_batch(raws: Sequence[Any], *, default_observed_at: datetime,
                    mapping: tuple[tuple[str, str], ...] = (),
                    now: datetime | None = None) -> list[dict[str, Any] | RowError]:
    """normalize_record over `raws`: for each, the clean record or the RowError it raises."""
    now = now or datetime.now(UTC)
    results: list[dict[str, Any] | RowError | None] = [None] * len(raws)
    fast_at, users = [], []
    for at, raw in enumerate(raws):
        if type(raw) is dict and _WRAPPERS.isdisjoint(raw):
            user, tweet = raw, None  # what unwrap gives a flat user object, without its checks
        elif isinstance(raw, Mapping):
            user, tweet = unwrap(raw)
        else:
            continue
        if tweet is None:  # a tweet's time and text take normalize_record's way
            user = canonical(user, mapping)
            if "screen_name" in user or not looks_like_no_user(user):
                fast_at.append(at)
                users.append(user)
    if users:
        names, cols = _columns(users, default_observed_at=default_observed_at, now=now)
        for at, row in zip(fast_at, zip(*cols, strict=True), strict=True):
            if _BAD not in row:
                results[at] = dict(zip(names, row, strict=True))
    for at, result in enumerate(results):
        if result is None:
            try:
                results[at] = normalize_record(raws[at], default_observed_at=default_observed_at,
                                               mapping=mapping, now=now)
            except RowError as error:
                results[at] = error
    return results  # type: ignore[return-value]
