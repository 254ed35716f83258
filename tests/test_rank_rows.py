"""topic_rank's bulk upkeep (perks.accounts.rank_rows): inside `refreshed_after` the per-row
triggers are paused for that transaction only, and the block leaves topic_rank what the
triggers would have left."""

import json

import pytest
from sqlalchemy import and_, text, update
from sqlmodel import Session

from perks.accounts import rank_rows
from perks.campaigns import rules
from perks.campaigns.ranking import COLUMNS, source_select
from perks.demo import demo_observed_at
from perks.demo.pool import generate_accounts
from perks.importing import import_records
from perks.models import Account, utcnow
from perks.scoring import score_pool
from perks.topics import load_taxonomy

ACCOUNT = Account.__table__


def _rows(session: Session, sql: str) -> set[tuple]:
    # bot_flags comes back as a list on PostgreSQL (json), as text on SQLite
    return {tuple(json.dumps(v) if isinstance(v, list) else v for v in row)
            for row in session.execute(text(sql))}


def _in_step(session: Session) -> set[tuple]:
    stored = _rows(session, f"SELECT {', '.join(COLUMNS)} FROM topic_rank")  # noqa: S608
    assert stored == _rows(session, source_select())
    return stored


@pytest.fixture
def scored(session):
    taxonomy = [(t.slug, t.keywords) for t in load_taxonomy()]
    records = generate_accounts(400, topics=taxonomy, observed_at=demo_observed_at())
    import_records(session, enumerate(records, 1), source_name="t",
                   observed_at=demo_observed_at())
    score_pool(session, chunk_size=150)
    assert _in_step(session)
    return session


def test_the_rows_copy_what_the_rules_read():
    assert rank_rows.COPIED == rules.RANKING_COLUMNS


def test_a_partial_rescore_leaves_the_table_in_step(scored):
    session = scored
    # Some accounts re-imported since their scoring, others not: only those are rescored.
    session.execute(update(Account).where(Account.id % 7 == 0).values(
        updated_at=utcnow(), followers_count=Account.followers_count * 3))
    session.commit()
    summary = score_pool(session, chunk_size=25)
    assert 0 < summary.scored < summary.accounts
    _in_step(session)


def test_a_block_that_fails_is_rolled_back_and_the_triggers_run_again(scored):
    session = scored
    before = _in_step(session)
    with pytest.raises(RuntimeError), rank_rows.refreshed_after(session, ACCOUNT.c.id == 1):
        session.execute(update(Account).where(Account.id == 1).values(influence_score=1.0))
        raise RuntimeError("a chunk failed")
    session.rollback()
    assert _in_step(session) == before
    # Not paused any more: a plain write is copied by the trigger at once.
    session.execute(update(Account).where(Account.id == 2).values(influence_percentile=3.5))
    session.commit()
    assert session.execute(text(
        "SELECT count(*) FROM topic_rank WHERE account_id = 2 AND influence_percentile <> 3.5"
    )).scalar_one() == 0
    _in_step(session)


def test_the_pause_holds_only_in_its_own_transaction(scored):
    session = scored
    engine = session.get_bind()
    with rank_rows.refreshed_after(session, and_(ACCOUNT.c.id >= 1, ACCOUNT.c.id <= 10)):
        session.execute(update(Account).where(Account.id <= 10).values(influence_percentile=1.0))
        with Session(engine) as other:
            if engine.dialect.name == "sqlite":
                # One writer at a time there; the pause row is never visible to another reader.
                assert other.execute(text("SELECT count(*) FROM topic_rank_pause")
                                     ).scalar_one() == 0
            else:  # another writer's triggers keep running
                other.execute(update(Account).where(Account.id == 20)
                              .values(influence_percentile=2.5))
                other.commit()
                assert other.execute(text(
                    "SELECT count(*) FROM topic_rank WHERE account_id = 20 "
                    "AND influence_percentile <> 2.5")).scalar_one() == 0
        # Paused here: the copies are stale until the block ends.
        stale = session.execute(text(
            "SELECT count(*) FROM topic_rank WHERE account_id <= 10 "
            "AND influence_percentile <> 1.0")).scalar_one()
        assert stale > 0
    session.commit()
    _in_step(session)


def test_a_scoring_run_leaves_fresh_planner_statistics_on_postgresql(scored):
    session = scored
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite keeps no planner statistics unless asked")
    analysed = session.execute(text(
        "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
        "AND relname IN ('account', 'account_topic', 'topic_rank')")).scalars().all()
    assert sorted(analysed) == ["account", "account_topic", "topic_rank"]


def _rank_indexes(session: Session) -> set[str]:
    if session.get_bind().dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'topic_rank'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'topic_rank'"
    return set(session.execute(text(sql)).scalars()) & set(rank_rows.RANK_INDEXES)


@pytest.fixture
def imported(session, monkeypatch):
    monkeypatch.setattr(rank_rows, "BULK_FILL_MIN", 100)  # the test pool counts as a bulk fill
    taxonomy = [(t.slug, t.keywords) for t in load_taxonomy()]
    records = generate_accounts(300, topics=taxonomy, observed_at=demo_observed_at())
    import_records(session, enumerate(records, 1), source_name="t",
                   observed_at=demo_observed_at())
    return session


def test_a_first_fill_builds_the_rank_indexes_once_at_the_end(imported):
    session = imported
    summary = score_pool(session, chunk_size=70)
    assert "rank_indexes" in summary.timings
    assert _rank_indexes(session) == set(rank_rows.RANK_INDEXES)
    _in_step(session)
    # The table is no longer empty: a second run keeps the indexes and their upkeep.
    session.execute(update(Account).where(Account.id % 5 == 0).values(updated_at=utcnow()))
    session.commit()
    assert "rank_indexes" not in score_pool(session, chunk_size=70).timings
    _in_step(session)


def test_a_first_fill_that_stops_half_way_gets_its_indexes_back_on_the_next_run(
        imported, monkeypatch):
    session = imported
    from perks.scoring import run

    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the machine went down")
        return real(*args, **kwargs)

    real = run._write_scores
    monkeypatch.setattr(run, "_write_scores", failing)
    with pytest.raises(RuntimeError):
        score_pool(session, chunk_size=70)
    session.rollback()
    assert _rank_indexes(session) == set()  # left out, rows of the first chunk in step
    _in_step(session)
    monkeypatch.setattr(run, "_write_scores", real)
    score_pool(session, chunk_size=70)
    assert _rank_indexes(session) == set(rank_rows.RANK_INDEXES)
    _in_step(session)


def test_the_rank_walk_settings_hold_for_its_statement_only(session):
    from perks.campaigns import ranking

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    session.execute(text("SET LOCAL jit = on"))
    with ranking._index_walk(session):
        assert session.execute(text("SHOW enable_bitmapscan")).scalar_one() == "off"
        assert session.execute(text("SHOW jit")).scalar_one() == "off"
    assert session.execute(text("SHOW enable_bitmapscan")).scalar_one() == "on"
    assert session.execute(text("SHOW jit")).scalar_one() == "on"
