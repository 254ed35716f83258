"""Percentiles that hold still (perks.scoring.percentiles): importing bots moves no earlier
account's percentile; only `perks score --recalibrate` does, and it says by how much."""

import os

import numpy as np
import pytest
from sqlalchemy import select
from sqlmodel import Session

from perks.demo import demo_observed_at
from perks.demo.pool import generate_accounts
from perks.importing import import_records
from perks.models import Account, ScoreReference
from perks.scoring import score_pool
from perks.scoring.influence import percentile_ranks
from perks.topics import load_taxonomy


@pytest.fixture
def engine_session(app):
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        yield session


def gen_bots(count: int, first_id: int, observed_at) -> list[dict]:
    """Automated accounts as research pools hold them: tiny audiences, floods of posts."""
    rng = np.random.default_rng(3)
    return [{"id": str(first_id + i), "screen_name": f"bot{first_id + i}",
             "followers_count": int(rng.integers(0, 40)),
             "friends_count": int(rng.integers(500, 5000)),
             "statuses_count": int(rng.integers(1000, 200_000)), "favourites_count": 0,
             "listed_count": 0, "created_at": "2019-01-01T00:00:00+00:00",
             "observed_at": observed_at.isoformat()} for i in range(count)]


def percentiles(session) -> dict[int, float]:
    return dict(session.execute(select(Account.id, Account.influence_percentile)).all())


def scores(session) -> dict[int, float]:
    return dict(session.execute(select(Account.id, Account.influence_score)).all())


# The sizes (5,000 demo accounts, then 17,000 bots) took 20 minutes on the shared
# 2-core machine, more than the whole suite's budget: the default run keeps the ratio at a
# tenth of the size; PERKS_FULL_PERCENTILE_TEST=1 runs the full sizes.
SIZES = (5000, 17_000) if os.environ.get("PERKS_FULL_PERCENTILE_TEST") == "1" else (500, 1700)


def test_importing_17000_bots_moves_no_earlier_percentile(engine_session):
    session = engine_session
    real, bot_count = SIZES
    observed = demo_observed_at()
    taxonomy = [(topic.slug, topic.keywords) for topic in load_taxonomy()]
    pool = generate_accounts(real, seed=7, topics=taxonomy, observed_at=observed)
    import_records(session, enumerate(pool, start=1), source_name="demo", observed_at=observed)
    first = score_pool(session)
    assert first.percentile_reference["action"] == "set"
    assert first.percentile_reference["reference_accounts"] == real
    before = percentiles(session)

    bots = gen_bots(bot_count, 10_000_000, observed)
    result = import_records(session, enumerate(bots, start=1), source_name="bots")
    assert result.imported == bot_count
    second = score_pool(session)
    assert second.accounts == real + bot_count and second.percentile_reference["action"] == "kept"
    after = percentiles(session)
    moves = np.array([abs(after[i] - p) for i, p in before.items()])
    assert moves.max() <= 1.0
    # Ranked within the whole pool, as before this change, the same accounts would have moved.
    everyone = np.sort(np.array(list(scores(session).values())))
    earlier = np.array([scores(session)[i] for i in before])
    pool_ranks = percentile_ranks(earlier, everyone)
    assert np.abs(pool_ranks - np.array(list(before.values()))).max() > 10



def test_only_recalibrating_moves_percentiles_and_it_reports_the_shift(engine_session):
    from perks.cli.scoring import summary_lines

    session = engine_session
    observed = demo_observed_at()
    taxonomy = [(topic.slug, topic.keywords) for topic in load_taxonomy()]
    pool = generate_accounts(300, seed=7, topics=taxonomy, observed_at=observed)
    import_records(session, enumerate(pool, start=1), source_name="demo", observed_at=observed)
    score_pool(session)
    import_records(session, enumerate(gen_bots(900, 10_000_000, observed), start=1),
                   source_name="bots")
    kept = score_pool(session)
    assert "read against the reference of 300 accounts" in "\n".join(summary_lines(kept))
    after = percentiles(session)
    summary = score_pool(session, recalibrate=True)
    session.expire_all()
    recalibrated = percentiles(session)
    moved = sum(abs(recalibrated[i] - after[i]) > 10 for i in after)
    assert moved > 0 and summary.percentile_reference["moved_over_10"] == moved
    text = "\n".join(summary_lines(summary))
    assert "percentiles recalibrated: new reference of 1,200 accounts" in text
    assert "(was 300)" in text
    assert f"{moved:,} accounts' percentile moved by more than 10 points" in text
    references = session.execute(select(ScoreReference.accounts)
                                 .order_by(ScoreReference.id)).scalars().all()
    assert references == [300, 1200]


def test_a_large_pool_keeps_quantiles_close_to_the_exact_rank(engine_session, monkeypatch):
    from perks.scoring import percentiles as module

    monkeypatch.setattr(module, "REFERENCE_POINTS", 101)
    rng = np.random.default_rng(1)
    values = np.sort(rng.lognormal(3, 1, 20_000))
    reference = module.reference_from_scores("1", values)
    assert len(reference.quantiles) == 101 and reference.accounts == 20_000
    exact = percentile_ranks(values, values)
    assert np.abs(reference.percentiles(values) - exact).max() <= 1.0
