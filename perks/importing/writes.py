"""Bulk writes of clean records into `account`: COPY on PostgreSQL, one executemany of plain
tuples on SQLite, in the caller's transaction.

The records' values already have the columns' Python types (perks.importing.columns made
them), so SQLAlchemy's per-row parameter machinery is skipped: values are converted a column
at a time, and only where the driver needs it (SQLite stores datetimes as SQLAlchemy's ISO
text, JSON columns are serialised). Rows go to the driver as tuples.
"""

import json
from collections.abc import Callable, Sequence
from datetime import UTC
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, DateTime, Float, Integer, String
from sqlmodel import Session

from perks.db import copy_rows
from perks.models import Account

ACCOUNT = Account.__table__
NOT_COLUMNS = ("topics", "person_key")  # in a clean record, not in the account table


def _impl(column_type: Any) -> Any:
    return getattr(column_type, "impl_instance", column_type)


def _sqlite_datetimes(values: list[Any], fallback: Callable[[Any], Any]) -> list[Any]:
    # SQLAlchemy's SQLite DATETIME text, "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, without its
    # Python per value; a time seen before (one crawl time for a whole file) is converted
    # once. Anything but a UTC datetime takes SQLAlchemy's own way.
    seen: dict[Any, Any] = {None: None}
    out = []
    for value in values:
        text = seen.get(value)
        if text is None and value is not None:
            text = seen[value] = (value.isoformat(" ", "microseconds")[:26]
                                  if value.tzinfo is UTC else fallback(value))
        out.append(text)
    return out


def _converted(connection: Connection, name: str, values: list[Any]) -> list[Any]:
    """The column's values as the driver takes them."""
    dialect = connection.dialect
    column_type = ACCOUNT.c[name].type
    processor = column_type._cached_bind_processor(dialect)
    if processor is None:
        return values
    impl = _impl(column_type)
    kinds = set(map(type, values)) - {type(None)}
    if isinstance(impl, DateTime):
        if dialect.name == "sqlite":
            return _sqlite_datetimes(values, processor)
        if {getattr(v, "tzinfo", None) for v in values if v is not None} <= {UTC}:
            return values  # the driver writes aware UTC datetimes as they are
    elif isinstance(impl, JSON):
        # SQLAlchemy stores None as JSON null; COPY takes the JSON text itself.
        encode = json.dumps if dialect.name == "postgresql" else processor
        if not kinds:
            return list(repeat(encode(None), len(values)))
        return list(map(encode, values))
    elif (isinstance(impl, Boolean) and kinds <= {bool}) or (
            isinstance(impl, Float) and kinds <= {float}) or (
            isinstance(impl, Integer | String) and kinds <= {int, str}):
        return values  # already what the processor would make of them
    return [None if v is None else processor(v) for v in values]


def insert_accounts(session: Session, records: Sequence[dict[str, Any]],
                    person_ids: dict[str, int], constants: dict[str, Any]) -> None:
    """Insert `records` (new accounts) with `person_id` from their `person_key` and the same
    `constants` (source file, run, timestamps) on every row."""
    connection = session.connection()
    names = [name for name in records[0] if name not in NOT_COLUMNS]
    columns = [list(map(itemgetter(name), records)) for name in names]
    names.append("person_id")
    columns.append(list(map(person_ids.get, map(itemgetter("person_key"), records))))
    columns = [_converted(connection, name, values)
               for name, values in zip(names, columns, strict=True)]
    for name, value in constants.items():
        names.append(name)
        columns.append(list(repeat(_converted(connection, name, [value])[0], len(records))))
    rows = zip(*columns, strict=True)
    if connection.dialect.name == "postgresql":
        copy_rows(connection, "account", names, rows)
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO account ({', '.join(names)}) "  # noqa: S608 - column names
                 f"VALUES ({', '.join([marker] * len(names))})")
    connection.exec_driver_sql(statement, list(rows))
