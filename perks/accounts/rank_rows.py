"""Bulk upkeep of `topic_rank`: pause its per-row triggers inside one transaction and refresh
the rows of the accounts that transaction wrote with two set-based statements; its indexes.

The triggers (perks.campaigns.ranking) keep `topic_rank` in step for any writer, one account
at a time. `perks score` rewrites every account's topics and scores in chunks, and there the
per-row trigger work was the largest stage at 1M accounts (each first score copies the
account's topic rows with an INSERT ... SELECT of its own). `refreshed_after` pauses them for
the current transaction only, and before it ends replaces the rows of the written accounts
from what `topic_rank` should hold: what the triggers would have left, in two statements.

The pause cannot outlive the transaction that set it, so no other writer ever finds the
triggers paused:
- PostgreSQL: a transaction-local setting (`set_config(..., true)`), read by each trigger's
  WHEN clause, so a paused trigger does not even call its function.
- SQLite (one writer at a time, no session settings a trigger can read): a row in
  `topic_rank_pause`, inserted and deleted inside the transaction; other connections never
  see it. A transaction that fails in between is rolled back, row and all.

The table's two rank indexes are defined here too (`index_statements`; migration 0018 carries
the same DDL frozen): a first fill writes the table without them and builds them once at the
end (`built_after_first_fill`), and `ensure_indexes` puts back any a stopped run left out.

What a row copies is the TopicRank model's columns (perks.models), which are the campaign
rules' columns (tests/test_rank_rows.py checks the two agree).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, insert, literal_column, select
from sqlmodel import Session

from perks.models import Account, AccountTopic, TopicRank

PAUSE_SETTING = "perks.topic_rank_paused"
PAUSE_TABLE = "topic_rank_pause"

TOPIC_RANK = TopicRank.__table__
ACCOUNT = Account.__table__
ACCOUNT_TOPIC = AccountTopic.__table__
KEY_COLUMNS = ("account_id", "topic_id", "weight")
COPIED = tuple(c.name for c in TOPIC_RANK.c if c.name not in KEY_COLUMNS)


# The two rank indexes: (topic, weight × value descending, account), carrying the weight and
# every copied column but the long free-text location (a location campaign reads that one from
# the table row), so a topic read is answered from the index alone.
RANK_INDEXES = {"ix_topic_rank_percentile": "influence_percentile",
                "ix_topic_rank_score": "influence_score"}
COVERED = ("weight", *(name for name in COPIED if name != "location"))


def rank_product(weight: ColumnElement, value: ColumnElement) -> ColumnElement:
    """weight × value: the rank indexes' key (relevance × 100); the rules rank by it."""
    return weight * value


def index_statements(dialect: str) -> list[str]:
    """DDL of the two rank indexes, for "sqlite" (the covered columns as trailing key columns)
    or "postgresql" (as INCLUDE columns: its JSON type has no b-tree ordering)."""
    covered = ", ".join(COVERED)
    statements = []
    for name, value in RANK_INDEXES.items():
        product = rank_product(literal_column("weight"), literal_column(value))
        key = f"topic_id, ({product}) DESC, account_id"
        statements.append(f"CREATE INDEX {name} ON topic_rank ({key}, {covered})"
                          if dialect == "sqlite" else
                          f"CREATE INDEX {name} ON topic_rank ({key}) INCLUDE ({covered})")
    return statements


def missing_indexes(session: Session) -> list[str]:
    """The rank indexes the database lacks (a first fill that stopped half-way leaves them out)."""
    connection = session.connection()
    # From the catalogue: SQLAlchemy's inspector skips expression indexes.
    present = set(connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'topic_rank'"
        if connection.dialect.name == "sqlite" else
        "SELECT indexname FROM pg_indexes WHERE tablename = 'topic_rank' "
        "AND schemaname = current_schema()").scalars())
    return [name for name in RANK_INDEXES if name not in present]


def ensure_indexes(session: Session) -> list[str]:
    """Create the rank indexes the database lacks, committed; returns their names."""
    missing = missing_indexes(session)
    if missing:
        connection = session.connection()
        dialect = connection.dialect.name
        if dialect == "postgresql":  # an index build sorts every row: let it do so in memory
            connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        for name, statement in zip(RANK_INDEXES, index_statements(dialect), strict=True):
            if name in missing:
                connection.exec_driver_sql(statement)
        session.commit()
    return missing


# A first fill of at least this many accounts writes topic_rank without its rank indexes and
# builds them once at the end (an index build sorts; row-by-row upkeep of two wide indexes
# touched most of their pages for every chunk). Below it, upkeep costs less than a build.
BULK_FILL_MIN = 50_000
BUILD_MEMORY = "512MB"


@dataclass
class FirstFill:
    active: bool = False  # the rank indexes were left out and built at the end
    build_seconds: float = 0.0


@contextmanager
def built_after_first_fill(session: Session, *, accounts: int) -> Iterator[FirstFill]:
    """If topic_rank is empty and `accounts` (to be written) reach BULK_FILL_MIN: drop the rank
    indexes, run the body, then build them; else just run the body. While it runs, a shortlist
    read finds no rank index (correct, slower: there was no scored account to read before). If
    the body fails the indexes stay out until `ensure_indexes`, which `perks score` runs first."""
    fill = FirstFill()
    empty = session.execute(select(TOPIC_RANK.c.account_id).limit(1)).first() is None
    if not (empty and accounts >= BULK_FILL_MIN):
        yield fill
        return
    connection = session.connection()
    for name in RANK_INDEXES:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    session.commit()
    fill.active = True
    yield fill
    clock = time.perf_counter()
    ensure_indexes(session)
    fill.build_seconds = time.perf_counter() - clock


def trigger_condition(dialect: str) -> str:
    """The WHEN condition under which a topic_rank trigger runs: not paused."""
    if dialect == "sqlite":
        return f"NOT EXISTS (SELECT 1 FROM {PAUSE_TABLE})"  # noqa: S608 - constant names
    return f"current_setting('{PAUSE_SETTING}', true) IS DISTINCT FROM 'on'"


@contextmanager
def refreshed_after(session: Session, accounts: ColumnElement[bool]) -> Iterator[None]:
    """Pause the topic_rank triggers for the body's writes, then replace the topic_rank rows of
    the accounts `accounts` selects (a condition on `account`) from their topics and columns.

    Everything runs in the session's current transaction; commit after the block. The body
    must only write accounts that `accounts` selects, or their rows would stay stale. On an
    error the block does no clean-up: roll the transaction back (which lifts the pause).
    """
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql(f"INSERT INTO {PAUSE_TABLE} (paused) VALUES (1)")  # noqa: S608
    else:
        connection.exec_driver_sql(f"SELECT set_config('{PAUSE_SETTING}', 'on', true)")
    yield
    written = select(ACCOUNT.c.id).where(accounts)
    connection.execute(delete(TOPIC_RANK).where(TOPIC_RANK.c.account_id.in_(written)))
    connection.execute(insert(TOPIC_RANK).from_select(
        [*KEY_COLUMNS, *COPIED],
        select(ACCOUNT_TOPIC.c.account_id, ACCOUNT_TOPIC.c.topic_id, ACCOUNT_TOPIC.c.weight,
               *(ACCOUNT.c[name] for name in COPIED))
        .join(ACCOUNT, ACCOUNT.c.id == ACCOUNT_TOPIC.c.account_id)
        .where(accounts, ACCOUNT.c.influence_score.is_not(None))
        # In index order, so the rank indexes take the rows in runs, not scattered.
        .order_by(ACCOUNT_TOPIC.c.topic_id,
                  (ACCOUNT_TOPIC.c.weight * ACCOUNT.c.influence_percentile).desc())))
    if sqlite:
        connection.exec_driver_sql(f"DELETE FROM {PAUSE_TABLE}")  # noqa: S608
    else:
        connection.exec_driver_sql(f"SELECT set_config('{PAUSE_SETTING}', '', true)")
