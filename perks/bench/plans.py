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
    """Run `call` once; one plan (as text lines) per pool SELECT it executed on `engine`.

    Each plan is asked for on the statement's own connection just before it runs, so the
    settings in force for it (the rank walk's transaction-local planner settings) hold for the
    EXPLAIN too."""
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    plans: list[list[str]] = []

    def explain(conn, _cursor, statement, parameters, _context, executemany) -> None:
        # The pool's own tables: lookups of a campaign's settings are not where time goes.
        if (executemany or not statement.lstrip().upper().startswith(("SELECT", "WITH"))
                or not any(table in statement for table in POOL_TABLES)):
            return
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(prefix + statement, parameters)
            # SQLite's rows are (id, parent, notused, detail); PostgreSQL's one text column.
            lines = [str(row[0] if postgres else row[-1]) for row in cursor.fetchall()]
        finally:
            cursor.close()
        plans.append(lines[:PLAN_LINES_MAX])

    event.listen(engine, "before_cursor_execute", explain)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    return plans
