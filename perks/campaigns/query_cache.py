"""Caches for the campaign queries: built statements by campaign, results by data version.

Two kinds, both in this process only (a GET never writes, so nothing is stored in the database):

- `statement`: a query built from the rules depends only on the campaign's values and the
  rules' context, never on the data, so it is built once and reused (building the rules' SQL
  expressions and their cache key costs more than running a small indexed query).
- `versioned`: a result (the funnel's counts) kept for as long as the database has not changed.
  The version is perks.db.data_version, read from the database's own change counters, not from
  a table perks maintains, so no writer can forget to bump it and bulk writes pay nothing. Any
  write to any table invalidates: coarse, never stale. A session holding uncommitted writes
  gets no cache at all, so what it computes (and may roll back) is never kept.
"""

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session

from perks.db import data_version
from perks.models import Campaign

T = TypeVar("T")
MAX_ENTRIES = 256
_campaign_columns = tuple(column.name for column in Campaign.__table__.columns)
_statements: "OrderedDict[Hashable, Any]" = OrderedDict()
_results: "OrderedDict[Hashable, Any]" = OrderedDict()
_lock = threading.Lock()  # gthread workers: several requests in this process at once
_MISSING = object()


def _frozen(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def campaign_key(campaign: Campaign) -> tuple:
    """Every stored value of the campaign (saved or a draft), as a hashable key."""
    return tuple(_frozen(getattr(campaign, name, None)) for name in _campaign_columns)


def context_key(ctx: Any) -> tuple:
    """What a query built from the rules' context (perks.campaigns.rules.Context) depends on."""
    today: date = ctx.today
    return (campaign_key(ctx.campaign), ctx.threshold, today, tuple(ctx.topic_ids), ctx.adapted)


def _remember(store: "OrderedDict[Hashable, Any]", key: Hashable, value: Any) -> None:
    store[key] = value
    if len(store) > MAX_ENTRIES:
        store.popitem(last=False)


def statement(key: Hashable, build: Callable[[], T]) -> T:
    """The statement built for `key`, built by `build` the first time."""
    with _lock:
        found = _statements.get(key, _MISSING)
        if found is not _MISSING:
            _statements.move_to_end(key)
            return found
    built = build()
    with _lock:
        _remember(_statements, key, built)
    return built


def versioned(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s result for `key`, reused in this process while the database's data version
    is unchanged. The key names the database too: one process may open several (the versions
    of two databases can be equal)."""
    version = data_version(session)
    if version is None:
        return compute()
    full_key = (key, session.get_bind().url.render_as_string(hide_password=True), version)
    with _lock:
        found = _results.get(full_key, _MISSING)
        if found is not _MISSING:
            _results.move_to_end(full_key)
            return copy.deepcopy(found)  # the caller may change its copy
    value = compute()
    with _lock:
        _remember(_results, full_key, copy.deepcopy(value))
    return value
