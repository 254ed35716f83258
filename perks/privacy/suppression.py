"""The suppression list: people perks must never store again, kept as salted hashes.

Each suppressed account gives up to two keys, so a later import is caught by either:

- ``sha256(SALT + "|" + platform + ":id:" + platform_id)``  (survives a handle change)
- ``sha256(SALT + "|" + platform + ":handle:" + handle.lower())``  (when only the handle is known)

The platform is its canonical name (perks.platforms: "x", "X" and " Twitter " are twitter), and
a forget that names no platform adds the handle under ``*``, which matches on every platform.

``SALT`` is a fixed, public constant on purpose: the keys must match across machines, secret-key
rotations and database copies, or a forgotten person would come back. It stops the table from
being matched against a plain ``sha256(handle)`` list, but it is pseudonymisation, not
encryption: someone with the database and a list of candidate handles can test them. The
handle and id are never stored in clear.
"""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from perks.models import Suppression, utcnow
from perks.platforms import ANY_PLATFORM, DEFAULT_PLATFORM, canonical_platform

SALT = "perks-suppression-v1"
__all__ = ["DEFAULT_PLATFORM", "SuppressionIndex", "handle_key", "id_key", "is_suppressed",
           "raw_keys", "record_keys", "suppress"]


def _hash(platform: str, kind: str, value: str) -> str:
    name = platform if platform == ANY_PLATFORM else canonical_platform(platform)
    text = f"{SALT}|{name}:{kind}:{value}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def id_key(platform: str, platform_id: str) -> str:
    return _hash(platform, "id", str(platform_id).strip())


def handle_key(platform: str, handle: str) -> str:
    return _hash(platform, "handle", handle.strip().lstrip("@").lower())


def record_keys(record: Mapping[str, Any]) -> tuple[str, ...]:
    """Every key that suppresses an import record (platform, platform_id, screen_name): its
    id, its handle on its platform, and its handle on any platform."""
    platform = record.get("platform") or DEFAULT_PLATFORM
    return (id_key(platform, record["platform_id"]), handle_key(platform, record["screen_name"]),
            handle_key(ANY_PLATFORM, record["screen_name"]))


def raw_keys(raw: Any) -> tuple[str, ...]:
    """The keys of a raw row that failed validation, read leniently (a tweet's `user`, `id_str`
    or `id`), so a rejects file never quotes a forgotten person."""
    user = raw.get("user") if isinstance(raw, Mapping) else None
    user = user if isinstance(user, Mapping) else raw
    if not isinstance(user, Mapping):
        return ()
    platform = canonical_platform(user.get("platform"))
    keys = []
    for name in ("id_str", "id"):
        if user.get(name) not in (None, ""):
            keys.append(id_key(platform, str(user[name])))
    handle = user.get("screen_name")
    if isinstance(handle, str) and handle.strip():
        keys += [handle_key(platform, handle), handle_key(ANY_PLATFORM, handle)]
    return tuple(keys)


def suppress(*, session: Session, platform: str, platform_id: str | None = None,
             handle: str | None = None, reason: str = "forget",
             actor: str | None = None) -> int:
    """Add the id and/or handle keys to the list (flushed, not committed); returns how many
    were new."""
    keys = []
    if platform_id:
        keys.append((id_key(platform, platform_id), "id"))
    if handle:
        keys.append((handle_key(platform, handle), "handle"))
    known = set(session.execute(select(Suppression.key_hash).where(
        Suppression.key_hash.in_([k for k, _ in keys]))).scalars()) if keys else set()
    new = [{"key_hash": key, "kind": kind, "reason": reason, "actor": actor,
            "created_at": utcnow()} for key, kind in keys if key not in known]
    if new:
        session.execute(insert(Suppression), new)
        session.flush()
    return len(new)


def is_suppressed(*, session: Session, platform: str = DEFAULT_PLATFORM,
                  platform_id: str | None = None, handle: str | None = None) -> bool:
    """Is this id or handle on the suppression list (on its platform or on any)?"""
    keys = ([id_key(platform, platform_id)] if platform_id else []) + (
        [handle_key(platform, handle), handle_key(ANY_PLATFORM, handle)] if handle else [])
    return bool(keys) and session.execute(select(Suppression.id).where(
        Suppression.key_hash.in_(keys)).limit(1)).first() is not None


class SuppressionIndex:
    """Every key in memory, for the importer: one query per import, then a set lookup per row.

    The list holds people who asked out, thousands at most, so it fits in memory easily.
    """

    def __init__(self, keys: Iterable[str]):
        self.keys = frozenset(keys)

    @classmethod
    def load(cls, session: Session) -> "SuppressionIndex":
        return cls(session.execute(select(Suppression.key_hash)).scalars())

    def __bool__(self) -> bool:
        return bool(self.keys)

    def matches(self, record: Mapping[str, Any]) -> bool:
        if not self.keys:  # the common case costs nothing per row
            return False
        return any(key in self.keys for key in record_keys(record))

    def matches_raw(self, raw: Any) -> bool:
        """The same check on a row that did not validate (perks.importing's rejects)."""
        return bool(self.keys) and any(key in self.keys for key in raw_keys(raw))
