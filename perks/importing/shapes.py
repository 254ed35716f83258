"""The shapes account records come in, and the header spellings seen in the wild.

Everything here turns what a file holds into a flat mapping with perks' field names (the
Twitter v1.1 user object's): a v1.1 user, a tweet carrying its author in `user`, an API v2
user (`username`, `public_metrics`), a research wrapper with the user under `profile`
(TwiBot-20/22), and CSV columns spelled `listedcount`, `followers`, `handle`, ... README's
"Import formats" lists them; `--map SOURCE=FIELD` adds more.
"""

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from perks.models import ACTIVITY_FIELDS


class HugeNumber(str):
    """A JSON integer too long to be a count or an id; parse_int rejects it by name."""


# perks' own field names (the v1.1 user object's, plus perks' extras).
FIELDS = (
    "id", "id_str", "screen_name", "name", "description", "location", "lang", "url",
    "created_at", "followers_count", "friends_count", "statuses_count", "favourites_count",
    "listed_count", "verified", "protected", "default_profile", "default_profile_image",
    "geo_enabled", "profile_use_background_image", "post_text", "observed_at", "crawled_at",
    "updated", "timestamp", "platform", "topics", "person_id", "birth_year", "is_minor",
    "consent", "external_score", "label", *ACTIVITY_FIELDS)
# Other spellings, compared after _key() folds case and drops '_', '-', '.' and spaces.
ALIASES = {
    "id": ("user_id", "userid", "account_id", "twitter_id", "uid", "author_id"),
    "screen_name": ("username", "user_name", "handle", "user_screen_name", "screenname"),
    "followers_count": ("followers", "follower_count", "followers_num", "n_followers"),
    "friends_count": ("friends", "following", "following_count", "followings", "friend_count",
                      "n_following"),
    "statuses_count": ("statuses", "tweets", "tweet_count", "tweets_count", "status_count",
                       "posts", "posts_count", "n_tweets"),
    "favourites_count": ("favorites_count", "favourites", "favorites", "likes", "like_count",
                         "likes_count", "favourite_count", "favorite_count"),
    "listed_count": ("listed", "lists", "list_count", "lists_count"),
    "description": ("bio", "user_description"),
    "name": ("display_name", "full_name", "user_name_full"),
    "created_at": ("account_created_at", "user_created_at", "creation_date"),
    "lang": ("language",),
}
# API v2 user objects carry the counts here, with v2 names.
V2_METRICS = {"followers_count": "followers_count", "following_count": "friends_count",
              "tweet_count": "statuses_count", "listed_count": "listed_count",
              "like_count": "favourites_count"}
# A record with neither is not a user object (an id alone is just a wrapper's key).
_USER_HINTS = ("screen_name", "followers_count")


def _key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", "", str(name).strip().lower())


_KNOWN = {_key(name): name for name in FIELDS}
_KNOWN.update({_key(alias): name for name, aliases in ALIASES.items() for alias in aliases})


_FIELD_SET = frozenset(FIELDS)


class MappingError(ValueError):
    """A --map option names no perks field."""


def parse_mapping(options: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`SOURCE=FIELD` options as {folded source name: field}; MappingError names a bad one."""
    mapping = {}
    for option in options:
        source, sep, target = option.partition("=")
        target = target.strip()
        if not sep or not source.strip() or target not in FIELDS:
            raise MappingError(f"--map {option!r}: expected SOURCE=FIELD with FIELD one of "
                               f"perks' fields ({', '.join(FIELDS[:14])}, ...)")
        mapping[_key(source)] = target
    return mapping


@lru_cache(maxsize=256)
def _plan(keys: tuple[str, ...], mapping: tuple[tuple[str, str], ...]) -> tuple[
        tuple[str, str], ...] | None:
    """(source key, field) pairs for a record with `keys`; None when no key needs renaming.

    A key already spelled as a field wins over an alias of it; --map wins over both.
    """
    chosen: dict[str, tuple[int, str]] = {}
    given = dict(mapping)
    for key in keys:
        folded = _key(key)
        if folded in given:
            field, rank = given[folded], 0
        elif key in _FIELD_SET:
            field, rank = key, 1
        elif folded in _KNOWN:
            field, rank = _KNOWN[folded], 2
        else:
            continue
        if field not in chosen or rank < chosen[field][0]:
            chosen[field] = (rank, key)
    if all(key == field for field, (_rank, key) in chosen.items()):
        return None
    return tuple((key, field) for field, (_rank, key) in chosen.items())


def canonical(record: Mapping[str, Any], mapping: tuple[tuple[str, str], ...] = ()) -> Mapping[
        str, Any]:
    """The record with perks' field names (other keys dropped when any had to be renamed)."""
    plan = _plan(tuple(record), mapping)
    if plan is None:
        return record
    return {field: record[key] for key, field in plan}


def unwrap(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """(the user object, the tweet that carried it or None) from any supported record shape."""
    user = raw.get("user")
    if isinstance(user, Mapping):
        return _v2_flattened(user), raw
    profile = raw.get("profile")
    if isinstance(profile, Mapping):
        # TwiBot-20/22: {"ID": ..., "profile": {user}, "label": ..., "neighbor": ..., ...}
        user = dict(_v2_flattened(profile))
        outer = {_key(k): v for k, v in raw.items() if not isinstance(v, Mapping | list)}
        for name in ("id", "label"):
            if user.get(name) is None and outer.get(name) is not None:
                user[name] = outer[name]
        return user, None
    return _v2_flattened(raw), None


def _v2_flattened(user: Mapping[str, Any]) -> Mapping[str, Any]:
    metrics = user.get("public_metrics")
    if not isinstance(metrics, Mapping):
        return user
    flat = {k: v for k, v in user.items() if k != "public_metrics"}
    for v2_name, field in V2_METRICS.items():
        if v2_name in metrics and field not in flat:
            flat[field] = metrics[v2_name]
    return flat


def looks_like_no_user(user: Mapping[str, Any]) -> bool:
    """True when none of the keys say "user object": the record is of a shape perks lacks."""
    if any(hint in user for hint in _USER_HINTS):  # the common case, without folding keys
        return False
    return not any(_KNOWN.get(_key(k)) in _USER_HINTS for k in user)


def describe_keys(raw: Mapping[str, Any], limit: int = 8) -> str:
    keys = [str(k)[:40] for k in list(raw)[:limit]]
    more = ", ..." if len(raw) > limit else ""
    return ", ".join(keys) + more if keys else "none"


def expand_element(element: dict[str, Any]) -> Iterator[dict[str, Any] | Any]:
    """The records one JSON element holds: itself, or the users of an API v2 envelope."""
    data, includes = element.get("data"), element.get("includes")
    is_envelope = (isinstance(data, list | Mapping) or isinstance(includes, Mapping)) and not (
        "screen_name" in element or "username" in element or "id" in element)
    if not is_envelope:
        yield element
        return
    items = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
    users = list(includes.get("users") or []) if isinstance(includes, Mapping) else []
    # In a users lookup `data` holds the users; in a tweets search it holds tweets whose
    # authors are in includes.users.
    users += [item for item in items if isinstance(item, Mapping) and "username" in item]
    seen = set()
    for user in users:
        key = user.get("id") if isinstance(user, Mapping) else None
        if key is not None and key in seen:
            continue
        seen.add(key)
        yield user
