"""Bulk writes for `perks score`: one DBAPI executemany of plain tuples per statement.

SQLAlchemy builds a parameter dict per row of an executemany (about 70 µs a row in the
profile of a 100k-account run, more than SQLite spent on the row itself), so the score and
topic writes hand the driver tuples of already-converted values instead. Values must be what
the column type would have bound: JSON as text we serialised ourselves, datetimes through
`bind_value`.

On SQLite the writes also run with a larger page cache: each score update fires the
`topic_rank` trigger, whose two expression indexes the default 2 MB cache keeps re-reading
(100k re-scored accounts: 35 s with the default, 13 s with 64 MB or more, same machine and
minute).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column
from sqlmodel import Session

WRITE_CACHE_KIB = 256 * 1024


class Statements:
    """Placeholders for the session's driver: `?` on SQLite, `%s` on PostgreSQL (psycopg)."""

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect
        self.sqlite = self.dialect.name == "sqlite"
        self.value = "?" if self.dialect.paramstyle == "qmark" else "%s"
        # PostgreSQL will not take a text parameter for a json column without a cast.
        self.json = self.value if self.sqlite else f"CAST({self.value} AS JSON)"

    def bind_value(self, column: Column, value: Any) -> Any:
        """`value` as the column's type would bind it (SQLite keeps datetimes as ISO text)."""
        processor = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return processor(value) if processor is not None else value

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """executemany of `sql` over `rows` in the session's transaction."""
        if rows:
            self.session.connection().exec_driver_sql(sql, list(rows))

    @contextmanager
    def page_cache(self, kib: int = WRITE_CACHE_KIB) -> Iterator[None]:
        """On SQLite, let this connection cache up to `kib` KiB of pages, then restore it."""
        if not self.sqlite:
            yield
            return
        connection = self.session.connection()
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        connection.exec_driver_sql(f"PRAGMA cache_size = {-int(kib)}")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
