"""Bulk writes for `perks score`: plain tuples to the driver, one statement per kind of row
(SQLite: one executemany; PostgreSQL: COPY, and for updates COPY into a temporary table and
one UPDATE ... FROM, since an executemany there runs a statement per row).

SQLAlchemy builds a parameter dict per row of an executemany (about 70 µs a row in the
profile of a 100k-account run, more than SQLite spent on the row itself), so the score and
topic writes hand the driver tuples of already-converted values instead. Values must be what
the column type would have bound: JSON as text we serialised ourselves, datetimes through
`bind_value`.

On SQLite the writes also run with a larger page cache: the chunk's rank rows are rewritten
in the same transaction (perks.accounts.rank_rows), into two wide indexes the default 2 MB
cache keeps re-reading."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column
from sqlmodel import Session

from perks.db import copy_rows

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

    def insert_rows(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        """Insert `rows` (tuples in `names` order): COPY on PostgreSQL, else one executemany."""
        if not rows:
            return
        if not self.sqlite:
            copy_rows(self.session.connection(), table, list(names), rows)
            return
        self.run_many(f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - our names
                      f"VALUES ({', '.join([self.value] * len(names))})", rows)

    def update_rows(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]], *,
                    json_names: Collection[str] = ()) -> None:
        """Set `names` on the rows of `table` whose `id` is each tuple's last value.

        PostgreSQL: COPY into a temporary table of those columns, then one UPDATE ... FROM
        (an executemany there runs a statement per row). SQLite: one executemany by id."""
        if not rows:
            return
        if self.sqlite:
            assignments = ", ".join(f"{name} = {self.json if name in json_names else self.value}"
                                    for name in names)
            self.run_many(f"UPDATE {table} SET {assignments} "  # noqa: S608 - our names
                          f"WHERE id = {self.value}", rows)
            return
        connection = self.session.connection()
        staged = f"{table}_staged_update"
        columns = ", ".join([*names, "id"])
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{staged}")
        connection.exec_driver_sql(  # the table's own column types, no constraints
            f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS "  # noqa: S608 - our names
            f"SELECT {columns} FROM {table} WITH NO DATA")
        copy_rows(connection, staged, [*names, "id"], rows)
        assignments = ", ".join(f"{name} = {staged}.{name}" for name in names)
        connection.exec_driver_sql(f"UPDATE {table} SET {assignments} FROM {staged} "  # noqa: S608
                                   f"WHERE {table}.id = {staged}.id")

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
