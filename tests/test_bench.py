"""perks bench: the report's shape at a small N, and the ranking table staying in step with
the account table through score, review decisions, a consent change and forget."""

import json

import pytest
from sqlalchemy import select, text, update
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.campaigns import matching
from perks.campaigns.ranking import COLUMNS, source_select
from perks.campaigns.store import create_campaign
from perks.demo import DEMO_CAMPAIGN, demo_observed_at
from perks.demo.pool import generate_accounts
from perks.detection import policy
from perks.importing import import_records
from perks.models import Account
from perks.privacy.forget import forget_account
from perks.review.decisions import decide
from perks.scoring import load_detector, score_pool
from perks.topics import load_taxonomy

METRICS = {"import_accounts_per_s", "import_peak_memory_mb", "score_classify_accounts_per_s",
           "shortlist_popular_p50_ms", "shortlist_popular_p95_ms", "shortlist_popular_vs_numpy",
           "shortlist_rare_p50_ms", "shortlist_rare_p95_ms", "shortlist_rare_vs_numpy",
           "funnel_popular_p50_ms", "funnel_rare_p50_ms", "funnel_popular_uncached_p50_ms",
           "funnel_rare_uncached_p50_ms", "export_rows_per_s", "peak_memory_mb",
           "cli_help_s", "cli_campaign_list_s", "topic_inference_texts_per_s"}
WITH_FLOOR = METRICS - {"import_peak_memory_mb", "peak_memory_mb"}


@pytest.fixture
def bench_runner(app):
    return app.test_cli_runner()


def test_bench_reports_every_metric_beside_its_floor(bench_runner):
    result = bench_runner.invoke(args=["bench", "--accounts", "2000", "--repeats", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["accounts"] == 2000 and report["database"] == "sqlite"
    assert set(report["metrics"]) == METRICS
    for name, metric in report["metrics"].items():
        assert metric["value"] > 0, name
        if name in WITH_FLOOR:
            assert metric["floor"] > 0 and metric["ratio"] > 0, name
            assert metric["ratio"] == pytest.approx(metric["value"] / metric["floor"], rel=0.01)
    # Each query figure comes with the plan of every pool query behind it.
    assert set(report["plans"]) == {"shortlist_popular", "shortlist_rare",
                                    "funnel_popular_uncached", "funnel_rare_uncached"}
    for name, plans in report["plans"].items():
        assert plans and all(plan for plan in plans), name
    assert any("ix_topic_rank" in line for plan in report["plans"]["shortlist_rare"]
               for line in plan)


def test_plans_are_read_for_the_pool_queries_a_call_runs(session):
    from perks.bench.plans import plans_of

    engine = session.get_bind()
    plans = plans_of(engine, lambda: (session.execute(text("SELECT count(*) FROM account")),
                                      session.execute(text("SELECT 1"))))
    assert len(plans) == 1  # SELECT 1 reads no pool table
    word = "Aggregate" if engine.dialect.name == "postgresql" else "SCAN"
    assert any(word in line for line in plans[0])


def _ranking_matches(session: Session) -> None:
    columns = ", ".join(COLUMNS)
    def rows(sql: str) -> set[tuple]:
        # bot_flags comes back as a list on PostgreSQL (json), as text on SQLite
        return {tuple(json.dumps(v) if isinstance(v, list) else v for v in row)
                for row in session.execute(text(sql))}

    stored = rows(f"SELECT {columns} FROM topic_rank")  # noqa: S608
    expected = rows(source_select())
    assert stored == expected
    assert stored


def _same_ranking(session: Session, campaign) -> None:
    threshold = policy.campaign_threshold(campaign)
    cond = matching.context(session, campaign, bot_threshold=threshold)
    general = matching.ranked_query(cond)
    slow = [tuple(r) for r in session.execute(
        select(general.c.account_id, general.c.relevance, general.c.rank)
        .order_by(general.c.rank).limit(60))]
    fast = matching.ranked_shortlist(session, campaign, bot_threshold=threshold, limit=60)
    assert [(r.account_id, r.relevance, r.rank) for r in fast] == slow
    assert slow


def test_ranking_table_follows_score_decide_consent_and_forget(session):
    taxonomy = [(t.slug, t.keywords) for t in load_taxonomy()]
    records = generate_accounts(600, topics=taxonomy, observed_at=demo_observed_at())
    import_records(session, enumerate(records, 1), source_name="t", observed_at=demo_observed_at())
    detector, _status = load_detector()
    score_pool(session, detector=detector)
    _ranking_matches(session)
    brand = get_or_create_brand(session=session, name="Brand A")
    campaigns = [create_campaign(session=session, brand_id=brand.id, data={
        **DEMO_CAMPAIGN, "name": f"c{i}", **changes}) for i, changes in enumerate((
            {}, {"topics": [s for s, _ in taxonomy[:3]], "one_per_person": False},
            {"topics": [s for s, _ in taxonomy[-2:]], "score_mode": "absolute", "score_min": 5},
            {"topics": [s for s, _ in taxonomy[:2]], "opted_in_only": True,
             "followers_min": 50, "min_topic_weight": 0.0}))]
    session.commit()
    for campaign in campaigns:
        _same_ranking(session, campaign)

    flagged = session.execute(select(Account.id).where(Account.bot_probability >= 0.5)
                              .limit(3)).scalars().all()
    for account_id in flagged:  # cleared: back in the ranking
        decide(session=session, brand_id=brand.id, account_id=account_id, decision="genuine",
               user_id=None, expected_version=0)
    session.commit()
    top = matching.ranked_shortlist(session, campaigns[0], bot_threshold=0.5, limit=1)[0]
    session.execute(update(Account).where(Account.id == top.account_id)
                    .values(consent="opted_out"))
    session.commit()
    _ranking_matches(session)
    for campaign in campaigns:
        _same_ranking(session, campaign)
    assert top.account_id not in {r.account_id for r in matching.ranked_shortlist(
        session, campaigns[0], bot_threshold=0.5, limit=100)}

    second = matching.ranked_shortlist(session, campaigns[0], bot_threshold=0.5, limit=1)[0]
    forget_account(session=session, actor="test", account=session.get(Account, second.account_id))
    session.commit()
    _ranking_matches(session)
    for campaign in campaigns:
        _same_ranking(session, campaign)
    score_pool(session, detector=detector)  # a re-score rewrites every row
    _ranking_matches(session)
