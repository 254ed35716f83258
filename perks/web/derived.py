"""In-process caches of what a request derives from stored data: the logged-in user, the API
token's user, the campaign page's funnel, charts and shortlist page, the API's shortlist page.

Each entry is keyed by what the request asked plus perks.db.data_version, read before the reads
the entry holds: every committed write (a decision, a refresh, an import, an edit, a logout) by
any process changes the version, so an entry is never older than the last write and nothing is
ever invalidated by hand. The cache is per app and per worker process, small, and least
recently used first out. A GET stays read-only: nothing here touches the database but reads.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app

from perks.db import data_version, get_session

T = TypeVar("T")
SIZE = 512  # entries per worker; a campaign page's entry holds one page of 50 rows
_MISSING = object()


class DerivedCache:
    """Least recently used first out; one computation per key at a time (threads of a gthread
    worker asking for the same page wait for the first one's answer instead of repeating it)."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.pending: dict[Hashable, threading.Event] = {}
        self.lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        with self.lock:
            value = self._hit(key)
            if value is not _MISSING:
                return value
            waiting = self.pending.get(key)
            if waiting is None:
                self.pending[key] = threading.Event()
        if waiting is not None:
            waiting.wait(timeout=60)
            with self.lock:
                value = self._hit(key)
            if value is not _MISSING:
                return value
            return make()  # the first one failed: this request makes its own answer
        try:
            value = make()
            with self.lock:
                self.entries[key] = value
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
            return value
        finally:
            with self.lock:
                self.pending.pop(key).set()

    def _hit(self, key: Hashable) -> Any:
        value = self.entries.get(key, _MISSING)
        if value is not _MISSING:
            self.entries.move_to_end(key)
        return value


def _cache() -> DerivedCache:
    cache = current_app.extensions.get("perks_derived")
    if cache is None:
        cache = current_app.extensions.setdefault("perks_derived", DerivedCache())
    return cache


def current_version() -> str | None:
    """The database's data version now (perks.db.data_version), to key several entries of one
    answer by one version: read it before any of their reads."""
    return data_version(get_session())


def cached(key: Hashable, make: Callable[[], T], *, version: str | None | object = _MISSING) -> T:
    """`make()`'s answer for `key` at the database's data version (read now, or `version` from
    current_version() when an answer is made of several entries): computed once per version
    and worker, then reused. Without a version (an in-memory database), always made."""
    if version is _MISSING:
        version = current_version()
    if version is None:
        return make()
    return _cache().get_or_make((key, version), make)
