"""The query plans behind a benchmark figure: run a call once, note the SELECTs it sends, and
ask the database how it ran each (PostgreSQL: EXPLAIN ANALYZE with buffers; SQLite: EXPLAIN
QUERY PLAN), so a report says why a figure is what it is, at the size it was measured."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

POOL_TABLES = ("FROM account", "JOIN account", "FROM topic_rank")
PLAN_LINES_MAX = 60  # a plan longer than this is cut: the top of a plan is where time goes


def plans_of(engine: Engine, call: Callable[[], Any]) -> list[list[str]]:
    """Run `call` once; one plan (as text lines) per SELECT it executed on `engine`."""
    seen: list[tuple[str, Any]] = []

    def note(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        # The pool's own tables: lookups of a campaign's settings are not where time goes.
        if (not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH"))
                and any(table in statement for table in POOL_TABLES)):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    plans = []
    with engine.connect() as connection:
        for statement, parameters in seen:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            # SQLite's rows are (id, parent, notused, detail); PostgreSQL's one text column.
            lines = [str(row[0] if postgres else row[-1]) for row in rows]
            plans.append(lines[:PLAN_LINES_MAX])
        connection.rollback()
    return plans
