"""Caches for the campaign queries: built statements by campaign, results by data version.

Two kinds, both in this process only (a GET never writes, so nothing is stored in the database):

- `statement`: a query built from the rules depends only on the campaign's values and the
  rules' context, never on the data, so it is built once and reused (building the rules' SQL
  expressions and their cache key costs more than running a small indexed query).
- `versioned`: a result (the funnel's counts) kept for as long as the database has not changed.
  The version is read in the request from the database's own change counters, not from a table
  perks maintains, so no writer can forget to bump it and bulk writes pay nothing:
  SQLite's ``PRAGMA data_version`` (moves when another connection commits) with
  ``total_changes()`` (this connection's own inserts, updates and deletes); PostgreSQL's
  ``pg_current_snapshot()`` (moves when any transaction commits). Any write to any table
  invalidates: coarse, never stale. A session holding uncommitted writes gets no cache at all,
  so what it computes (and may roll back) is never kept.
"""

import copy
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import text
from sqlmodel import Session

from perks.models import Campaign

T = TypeVar("T")
MAX_ENTRIES = 256
_campaign_columns = tuple(column.name for column in Campaign.__table__.columns)
_statements: "OrderedDict[Hashable, Any]" = OrderedDict()


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
    try:
        _statements.move_to_end(key)
        return _statements[key]
    except KeyError:
        built = build()
        _remember(_statements, key, built)
        return built


def data_version(session: Session) -> Hashable | None:
    """A token that changes whenever the data this session can see may have changed; None when
    the session holds uncommitted writes (then nothing may be cached)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if connection.connection.dbapi_connection.in_transaction:
            return None  # pysqlite opens a transaction only to write
        row = connection.exec_driver_sql("PRAGMA data_version").one()
        return (row[0], connection.exec_driver_sql("SELECT total_changes()").scalar_one())
    row = connection.execute(text(
        "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()")).one()
    return None if row[1] is not None else row[0]


def versioned(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s result for `key`, reused while the data version is unchanged. Kept with the
    database connection (SQLite's counters are per connection), so it lives as long as it."""
    version = data_version(session)
    if version is None:
        return compute()
    info = session.connection().info
    store: OrderedDict = info.setdefault("perks_versioned_cache", OrderedDict())
    full_key = (key, version)
    if full_key in store:
        store.move_to_end(full_key)
        return copy.deepcopy(store[full_key])  # the caller may change its copy
    value = compute()
    _remember(store, full_key, copy.deepcopy(value))
    return value
