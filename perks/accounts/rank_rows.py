"""Bulk upkeep of `topic_rank`: pause its per-row triggers inside one transaction and refresh
the rows of the accounts that transaction wrote, with two set-based statements.

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

What a row copies is the TopicRank model's columns (perks.models), which are the campaign
rules' columns (tests/test_rank_rows.py checks the two agree).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, delete, insert, select
from sqlmodel import Session

from perks.models import Account, AccountTopic, TopicRank

PAUSE_SETTING = "perks.topic_rank_paused"
PAUSE_TABLE = "topic_rank_pause"

TOPIC_RANK = TopicRank.__table__
ACCOUNT = Account.__table__
ACCOUNT_TOPIC = AccountTopic.__table__
KEY_COLUMNS = ("account_id", "topic_id", "weight")
COPIED = tuple(c.name for c in TOPIC_RANK.c if c.name not in KEY_COLUMNS)


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
