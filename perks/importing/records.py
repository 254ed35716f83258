"""Turn one raw record (a CSV row or JSON element) into clean Account column values.

Validation happens here, at the edge, with errors that name the field; the store trusts what
comes out. Plain functions rather than a pydantic model: the import must run at >100k rows/s
and each error must name the field in words a marketer can act on.
"""

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from perks.importing.shapes import (
    HugeNumber,
    canonical,
    describe_keys,
    looks_like_no_user,
    unwrap,
)
from perks.models import ACTIVITY_FIELDS, CONSENT_STATES
from perks.platforms import canonical_platform

COUNT_FIELDS = ("followers_count", "friends_count", "statuses_count", "favourites_count",
                "listed_count")
# Counts some formats do not carry (API v2 had no likes count for years, many CSVs have no
# lists column): missing is stored as 0 and listed in `unknown_counts`, not a reject.
OPTIONAL_COUNTS = ("favourites_count", "listed_count")
FUTURE_TOLERANCE = timedelta(days=1)  # clocks and zones differ; a day ahead is an error
FLAG_FIELDS = ("verified", "protected", "default_profile", "default_profile_image", "geo_enabled")
# Field name -> longest text accepted; longer is a reject, not a silent cut.
TEXT_LIMITS = {"name": 200, "description": 5000, "location": 300, "lang": 40, "url": 1000,
               "post_text": 20000}
# Where the observation time may come from, most trustworthy first. cresci-2017's `timestamp`
# is the creation time in local time, so it comes last among the row's own fields.
OBSERVED_AT_FIELDS = ("observed_at", "crawled_at", "updated", "timestamp")
SHARE_FIELDS = tuple(f for f in ACTIVITY_FIELDS
                     if f.endswith("_share") or f == "interval_regularity")

_MISSING = {"", "null", "none", "nan", "n/a"}
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}
_ID_RE = re.compile(r"[A-Za-z0-9_:.\-]{1,64}")
_HANDLE_RE = re.compile(r"[^\s@,;]{1,100}")
_PLATFORM_RE = re.compile(r"[a-z0-9_\-]{1,30}")
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


REASON_MAX = 300


class RowError(ValueError):
    """A record that cannot be stored; `field` names the culprit."""

    def __init__(self, field: str, reason: str):
        # A reason quotes the value; a megabyte value must not make a megabyte rejects line.
        reason = reason if len(reason) <= REASON_MAX else reason[:REASON_MAX - 1] + "…"
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() in _MISSING


def parse_bool(value: Any, field: str) -> bool | None:
    if type(value) is bool:  # the common case first: JSON and the demo give real booleans
        return value
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(field, f"expected true/false or 1/0, got {_show(value)}")


def parse_int(value: Any, field: str, *, minimum: int = 0, maximum: int = 10**12) -> int | None:
    if type(value) is int and minimum <= value <= maximum:  # common case, no checks needed
        return value
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise RowError(field, f"expected a whole number, got {_show(value)}")
    if isinstance(value, HugeNumber):
        raise RowError(field, f"a number of {len(value):,} digits is no count or id")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text.isascii():  # float() reads '١٢' and '１２'; a count in such digits is a typo
            raise RowError(field, f"expected a whole number in ASCII digits, got {_show(value)}")
        if len(text) > 40:
            raise RowError(field, f"expected a whole number, got {len(text):,} characters")
        try:
            number_f = float(text)
        except ValueError:
            raise RowError(field, f"expected a whole number, got {_show(value)}") from None
        if not number_f.is_integer():
            raise RowError(field, f"expected a whole number, got {_show(value)}")
        number = int(number_f)
    if not minimum <= number <= maximum:
        raise RowError(field, f"{number} is outside {minimum}..{maximum}")
    return number


def parse_float(value: Any, field: str, *, minimum: float = 0.0,
                maximum: float = math.inf) -> float | None:
    if type(value) is float and math.isfinite(value) and minimum <= value <= maximum:
        return value  # the common case; NaN, infinities and bad values take the long way
    if is_missing(value):
        return None
    if isinstance(value, bool | HugeNumber) or (isinstance(value, str) and not value.isascii()):
        raise RowError(field, f"expected a number, got {_show(value)}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowError(field, f"expected a number, got {_show(value)}") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise RowError(field, f"{_show(value)} is outside {minimum:g}..{maximum:g}")
    return number


def parse_time(value: Any, field: str) -> datetime | None:
    """Twitter's "Tue Oct 11 12:00:00 +0000 2011" or ISO 8601; naive times are taken as UTC."""
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = (_parse_twitter_time(text) if text[:3].isalpha()
                      else datetime.fromisoformat(text.replace("Z", "+00:00")))
        except (ValueError, KeyError):
            raise RowError(field, f"not a Twitter or ISO 8601 time: {_show(value)}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_twitter_time(text: str) -> datetime:
    # strptime costs ~20 µs a call, a fifth of the import's budget; the layout is fixed.
    parts = text.split()
    if len(parts) != 6 or parts[4] != "+0000":
        return datetime.strptime(text, _TWITTER_TIME)
    hour, minute, second = parts[3].split(":")
    return datetime(int(parts[5]), _MONTHS[parts[1]], int(parts[2]), int(hour), int(minute),
                    int(second), tzinfo=UTC)


def parse_text(value: Any, field: str) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, dict | list):
        raise RowError(field, "expected text, got a nested object")
    # Real bios carry stray NUL bytes (one in cresci-2015 E13); PostgreSQL cannot store them.
    # Research exports pad every string with a space; the padding is not part of the text.
    text = str(value).replace("\x00", "").strip()
    if len(text) > TEXT_LIMITS[field]:
        raise RowError(field, f"{len(text)} characters, at most {TEXT_LIMITS[field]} allowed")
    return text or None


def parse_topics(value: Any) -> dict[str, float] | None:
    """Topics given by the import: a list of slugs, {slug: weight}, or "slug:0.8;slug2" text."""
    if is_missing(value):
        return None
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError("topics", "not valid JSON") from None
        except RecursionError:
            raise RowError("topics", "JSON nested too deeply") from None
    if isinstance(value, str):
        pairs = [part.split(":", 1) for part in re.split(r"[;,|]", value) if part.strip()]
        value = {p[0]: (p[1] if len(p) > 1 else 1.0) for p in pairs}
    if isinstance(value, list):
        if not all(isinstance(slug, str) for slug in value):
            raise RowError("topics", "a list of topics must hold topic names only")
        value = {slug: 1.0 for slug in value}
    if not isinstance(value, dict):
        raise RowError("topics", "expected a list of topics or a mapping topic -> weight")
    topics = {}
    for slug, weight in value.items():
        if not isinstance(slug, str) or not slug.strip():
            raise RowError("topics", f"bad topic name {_show(slug)}")
        topics[slug.strip().lower()] = parse_float(weight, "topics", maximum=1.0) or 0.0
    return topics or None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _required(value: Any, field: str) -> Any:
    if value is None:
        raise RowError(field, "missing")
    return value


def _extract_user(raw: Mapping[str, Any], mapping: tuple[tuple[str, str], ...]) -> tuple[
        Mapping[str, Any], datetime | None, str | None]:
    """A tweet object carries the account in `user`; its time is when the profile was seen."""
    user, tweet = unwrap(raw)
    user = canonical(user, mapping)
    if tweet is None:
        return user, None, None
    tweet_time = parse_time(tweet.get("created_at"), "created_at")
    text = tweet.get("full_text") or tweet.get("text")
    return user, tweet_time, text if isinstance(text, str) else None


def normalize_record(raw: Mapping[str, Any], *, default_observed_at: datetime,
                     mapping: tuple[tuple[str, str], ...] = (),
                     now: datetime | None = None) -> dict[str, Any]:
    """Clean Account values from one raw record, or raise RowError naming the field.

    `mapping` holds (folded source name, field) pairs from --map (shapes.parse_mapping).
    The result holds Account columns plus `topics` (slug -> weight or None) and `person_key`.
    An observation more than a day after `now` (default: the clock) is a reject: it would
    make every later, real observation of the account look older and be ignored.
    """
    if not isinstance(raw, Mapping):
        raise RowError("record", f"expected an object, got {type(raw).__name__}")
    user, tweet_time, tweet_text = _extract_user(raw, mapping)
    if looks_like_no_user(user):
        raise RowError("record", f"elements have keys {describe_keys(raw)}: no user object "
                       "found (a Twitter v1.1 or v2 user, a tweet with `user`, a wrapper with "
                       "`profile`); see Import formats in the README")
    get = user.get
    out: dict[str, Any] = {}

    account_id = get("id_str") if not is_missing(get("id_str")) else get("id")
    account_id = _required(None if is_missing(account_id) else str(account_id).strip(), "id")
    if not _ID_RE.fullmatch(account_id):
        raise RowError("id", f"not an account id: {_show(account_id)}")
    out["platform_id"] = account_id
    platform = canonical_platform(get("platform"))
    if not _PLATFORM_RE.fullmatch(platform):
        raise RowError("platform", f"not a platform name: {_show(platform)}")
    out["platform"] = platform
    handle = get("screen_name")
    handle = _required(None if is_missing(handle) else str(handle).strip().lstrip("@"),
                       "screen_name")
    if not _HANDLE_RE.fullmatch(handle):
        raise RowError("screen_name", f"not a handle: {_show(handle)}")
    out["screen_name"] = handle

    for field in ("name", "description", "location", "lang", "url"):
        out[field] = parse_text(get(field), field)
    post_text = get("post_text") or tweet_text
    out["post_text"] = parse_text(post_text, "post_text")
    unknown = []
    for field in COUNT_FIELDS:
        count = parse_int(get(field), field)
        if count is None and field in OPTIONAL_COUNTS:
            unknown.append(field)
            count = 0
        out[field] = _required(count, field)
    out["unknown_counts"] = unknown or None
    for field in FLAG_FIELDS:
        out[field] = bool(parse_bool(get(field), field))
    out["profile_use_background_image"] = parse_bool(
        get("profile_use_background_image"), "profile_use_background_image")

    out["created_at"] = parse_time(get("created_at"), "created_at")
    observed = [parse_time(get(f), f) for f in OBSERVED_AT_FIELDS[:3]]
    observed += [tweet_time, parse_time(get("timestamp"), "timestamp")]
    out["observed_at"] = next((t for t in observed if t is not None), default_observed_at)
    if out["observed_at"] > (now or datetime.now(UTC)) + FUTURE_TOLERANCE:
        source = next((f for f, t in zip((*OBSERVED_AT_FIELDS[:3], "created_at", "timestamp"),
                                         observed, strict=True) if t is not None), "observed_at")
        raise RowError(source, f"{out['observed_at']:%Y-%m-%d %H:%M} UTC is more than a day "
                       "in the future")
    if out["created_at"] and out["created_at"] > out["observed_at"]:
        raise RowError("created_at", "is after the time the profile was observed")

    out.update(_extras(get))
    return out


def _extras(get: Callable[[str], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    person = get("person_id")
    out["person_key"] = None if is_missing(person) else str(person).strip()[:200]
    out["birth_year"] = parse_int(get("birth_year"), "birth_year", minimum=1900, maximum=2100)
    out["is_minor"] = parse_bool(get("is_minor"), "is_minor")
    consent = get("consent")
    consent = "unknown" if is_missing(consent) else str(consent).strip().lower().replace("-", "_")
    if consent not in CONSENT_STATES:
        raise RowError("consent", f"expected one of {', '.join(CONSENT_STATES)}")
    out["consent"] = consent
    out["external_score"] = parse_float(get("external_score"), "external_score",
                                        minimum=-math.inf)
    for field in ACTIVITY_FIELDS:
        if field == "distinct_sources":
            out[field] = parse_int(get(field), field, maximum=10_000)
        else:
            out[field] = parse_float(get(field), field,
                                     maximum=1.0 if field in SHARE_FIELDS else math.inf)
    out["topics"] = parse_topics(get("topics"))
    return out
