"""Engine, sessions and migrations.

One engine per app. A web request gets one session (opened on first use, closed at teardown);
a CLI command opens its own with `session_scope`. Everything below takes the session as an
argument.
"""

import ast
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 30_000
BOOKKEEPING_TIMEOUT_MS = 1_000  # a bookkeeping write waits at most this long for a lock


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL; SQLite gets WAL, foreign keys, busy timeout,
    secure delete, and a file only its owner can read."""
    if url.startswith("sqlite"):
        _create_private_file(make_url(url).database)
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                  "timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite leaves them off unless asked
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache a connection, not the default 2 MB: at 1M accounts the rank indexes
    # and the account table's hot pages stop being read again on every query (pages are
    # allocated only as they are used, so a small database pays nothing).
    cursor.execute("PRAGMA cache_size=-65536")
    # Deleted rows (a forgotten account) are overwritten, not left readable in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _create_private_file(database: str | None) -> None:
    # Like the secret key, the database is for perks' own user only. SQLite gives its -wal and
    # -shm files the database file's mode, so creating it 0600 covers them too.
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


def checkpoint(engine: Engine) -> None:
    """After erasing personal data: copy SQLite's WAL into the database file and empty it, so
    the erased rows are not left readable in the WAL (a no-op on PostgreSQL). Best-effort: a
    reader holding an old snapshot can keep some frames until the next checkpoint."""
    if engine.dialect.name == "sqlite":
        best_effort(engine, lambda c: c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)"),
                    what="WAL checkpoint")


def best_effort(engine: Engine, write: Callable[[Connection], object], *, what: str) -> bool:
    """Run a bookkeeping write (a token's last use, old rate-limit rows) in its own short
    transaction that waits at most BOOKKEEPING_TIMEOUT_MS for a lock; on any database error
    log it and go on. Such writes must never fail or stall the request that makes them."""
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BOOKKEEPING_TIMEOUT_MS}")
            try:
                if not sqlite:
                    connection.exec_driver_sql(
                        f"SET LOCAL lock_timeout = '{BOOKKEEPING_TIMEOUT_MS}ms'")
                write(connection)
                connection.commit()
            finally:
                if sqlite:
                    connection.rollback()
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return True
    except SQLAlchemyError as error:
        log.warning("%s skipped: %s", what, str(error).splitlines()[0])
        return False


def copy_rows(connection: Connection, table: str, names: list[str], rows: Any) -> None:
    """PostgreSQL's COPY of `rows` (tuples in `names` order, values as the columns take them)
    into `table`, through psycopg 3 in the connection's transaction: the bulk writers' path,
    several times an executemany's rate there."""
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:  # our own names only
        for row in rows:
            copy.write_row(row)


def alembic_config(engine: Engine) -> "AlembicConfig":
    from alembic.config import Config as AlembicConfig  # only commands migrate; web apps never

    config = AlembicConfig()
    config.set_main_option("script_location", str(files("perks") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (idempotent)."""
    if stored_revisions(engine) == schema_heads():
        return  # up to date, which is what most commands find: no need to load Alembic
    from alembic import command

    command.upgrade(alembic_config(engine), "head")  # one head: branches get a merge revision


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def schema_heads() -> set[str]:
    """The newest migration revisions, read from the files' `revision` and `down_revision`
    without importing them (Alembic imports every file; tests check both agree): each command
    asks, so the one-line assignments are read with a pattern, and only a file where that does
    not give both is parsed whole."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (files("perks") / "migrations" / "versions").iterdir():
        if not path.name.endswith(".py"):
            continue
        found = _revision_lines(path.read_text(encoding="utf-8"))
        revisions.add(found["revision"])
        value = found["down_revision"]
        if value:
            parents.update([value] if isinstance(value, str) else value)
    return revisions - parents


def _revision_lines(source: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    try:
        for name, value in _REVISION_LINE.findall(source):
            found.setdefault(name, ast.literal_eval(value))
    except (ValueError, SyntaxError):
        found = {}
    if len(found) == 2:
        return found
    for node in ast.parse(source).body:  # an assignment over several lines
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        name = target.id if isinstance(target, ast.Name) else None
        if name in ("revision", "down_revision"):
            found[name] = ast.literal_eval(node.value)  # type: ignore[union-attr, arg-type]
    return found


def stored_revisions(engine: Engine) -> set[str]:
    """The revisions the database says it is at (none for a new database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


_watch_lock = threading.Lock()
_watchers: dict[tuple[int, str], sqlite3.Connection] = {}


def data_version(session: Session) -> str | None:
    """A value that changes whenever a write is committed to the session's database, by this
    process or any other, through any connection: the one key for in-process caches of derived
    reads (perks.web.derived, perks.campaigns.query_cache). Read it before the reads it keys, so
    an answer cached under it is never older than it. None when nothing may be cached: the
    session holds uncommitted writes of its own (what it computes may be rolled back), or there
    is no cheap such value (an in-memory database).

    SQLite: `PRAGMA data_version` on a connection of this process's own that never writes (the
    pragma moves with every commit made on any other connection). PostgreSQL: the current
    snapshot (xmin:xmax:in-progress ids), which changes with every transaction that writes."""
    if session.new or session.dirty or session.deleted:
        return None  # unflushed ORM changes: the next read flushes them
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        snapshot, own_write = connection.execute(text(
            "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()")).one()
        return None if own_write is not None else snapshot
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:" or (
            database.startswith("file:")):
        return None
    if connection.connection.dbapi_connection.in_transaction:
        return None  # pysqlite opens a transaction only to write
    key = (os.getpid(), database)  # a forked worker opens its own
    with _watch_lock:
        watcher = _watchers.get(key)
        if watcher is None:
            if len(_watchers) >= 8:  # a test run opens many databases: keep a few
                _watchers.pop(next(iter(_watchers))).close()
            watcher = _watchers[key] = sqlite3.connect(
                database, check_same_thread=False, isolation_level=None)
        return str(watcher.execute("PRAGMA data_version").fetchone()[0])


def init_app(app: Flask) -> None:
    app.extensions["perks_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_request_session)


def get_engine() -> Engine:
    return current_app.extensions["perks_engine"]


def get_session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for one command: committed by the caller, rolled back on error, then closed."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that serialises schema
# changes, so app servers started together on one database migrate it once, one after another.
_PREPARE_LOCK_KEY = 0x7065726B73  # "perks"


@contextmanager
def _prepare_lock(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock while preparing; SQLite's file lock already serialises."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PREPARE_LOCK_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                               {"key": _PREPARE_LOCK_KEY})
            connection.commit()


def prepare_database(engine: Engine) -> None:
    """What every command that touches data needs: the newest schema and the taxonomy's topics.
    Safe to run from several processes at once (two `perks serve` on one database)."""
    from perks.accounts import sync_topics  # the store imports this module; avoid the cycle
    from perks.topics import load_taxonomy

    with _prepare_lock(engine):
        migrate(engine)
        with session_scope(engine) as session:
            sync_topics(session, load_taxonomy())
