"""The pool audit: the interval's coverage, the estimates, the sample and its pages."""

import numpy as np
import pytest
from sqlalchemy import select
from sqlmodel import Session

from perks.detection import audit
from perks.models import Account, AuditSample
from perks.review import audit as pool_audit
from perks.review import decisions
from tests.conftest import AuthActions, gen_user
from tests.test_campaigns import gen_campaign, gen_pool


@pytest.mark.parametrize("true_share", [0.02, 0.05, 0.1, 0.3])
def test_the_95_interval_holds_the_true_share_in_at_least_90_percent_of_pools(true_share):
    rng = np.random.default_rng(int(true_share * 1000))
    held = 0
    for _ in range(200):
        pool = rng.random(5000) < true_share  # a pool with a known bot share
        sample = rng.choice(pool, size=audit.DEFAULT_SAMPLE, replace=False)
        low, high = audit.wilson_interval(int(sample.sum()), len(sample))
        held += low <= pool.mean() <= high
    assert held >= 180


def test_wilson_interval_edges():
    assert audit.wilson_interval(0, 0) == (0.0, 1.0)
    low, high = audit.wilson_interval(0, 50)
    assert low == 0.0 and 0.05 < high < 0.1  # no bot seen is not "no bots"
    low, high = audit.wilson_interval(50, 50)
    assert 0.9 < low < 0.95 and high == 1.0


def _items(bots, genuine):
    """(probability, rule_flagged) lists for bots and genuine accounts."""
    return ([audit.SampleItem(p, r, True) for p, r in bots]
            + [audit.SampleItem(p, r, False) for p, r in genuine])


def test_estimate_counts_precision_recall_and_genuine_flagged_per_threshold():
    items = _items(bots=[(0.9, False), (0.6, False), (0.1, True), (0.1, False)],
                   genuine=[(0.05, False)] * 14 + [(0.7, False), (0.3, False)])
    items.append(audit.SampleItem(0.99, False, None))  # undecided: not counted
    e = audit.estimate(items, pool_size=1000, thresholds=[("t5", 0.5), ("t2", 0.2)])
    assert (e.decided, e.bot_share.count, e.bot_share.n) == (20, 4, 20)
    assert e.bots_in_pool == (round(e.bot_share.low * 1000), round(e.bot_share.high * 1000))
    at5, at2 = e.settings
    assert (at5.precision.count, at5.precision.n) == (3, 4)  # 0.9, 0.6, the rule; 0.7 genuine
    assert (at5.recall.count, at5.recall.n) == (3, 4)
    assert (at5.genuine_flagged.count, at5.genuine_flagged.n) == (1, 16)
    assert (at2.genuine_flagged.count, at2.recall.count) == (2, 3)
    assert audit.estimate(items[:9], pool_size=10, thresholds=[]) is None  # too few


def test_threshold_for_tolerance_keeps_to_the_tolerated_share():
    genuine = [(p, False) for p in np.linspace(0.01, 0.6, 40)]
    items = _items(bots=[(0.9, False)], genuine=genuine)
    for tolerated in (0.0, 0.05, 0.1, 0.25):
        t = audit.threshold_for_tolerance(items, tolerated)
        flagged = sum(p >= t for p, _ in genuine)
        assert flagged <= tolerated * 40
    assert audit.threshold_for_tolerance(items, 0.0) > 0.6
    assert audit.threshold_for_tolerance(_items([(0.9, False)], []), 0.05) is None


def test_sample_is_uniform_over_the_matched_pool_and_decisions_feed_the_estimate(session):
    pool = {f"acc{i:02d}": ({"coffee": 0.9}, 50 + i % 40, round((i % 10) / 10, 1), {})
            for i in range(40)}
    pool["young"] = ({"coffee": 0.9}, 90, 0.9, {"is_minor": True})  # never in the pool
    ids = gen_pool(session, pool)
    campaign = gen_campaign(session, bot_strictness="0.5", languages=[], score_min=0,
                            min_topic_weight=0.3)
    assert pool_audit.draw_sample(session=session, campaign=campaign, size=25, seed=1) == 25
    session.commit()
    sampled = set(session.execute(select(AuditSample.account_id)).scalars())
    assert len(sampled) == 25 and ids["young"] not in sampled
    result = pool_audit.campaign_audit(session=session, campaign=campaign)
    assert result.pool_size == 40 and result.estimate is None
    for account_id in sorted(sampled)[:12]:
        probability = session.get(Account, account_id).bot_probability
        decisions.decide(session=session, brand_id=campaign.brand_id, account_id=account_id,
                         decision="automated" if probability >= 0.7 else "genuine",
                         user_id=None, expected_version=0, refresh=False)
    session.commit()
    result = pool_audit.campaign_audit(session=session, campaign=campaign, tolerated=0.0)
    assert result.decided == 12 and result.estimate.decided == 12
    assert result.suggested_threshold is not None
    # Drawing again replaces the sample; decisions stay (they are ordinary decisions).
    pool_audit.draw_sample(session=session, campaign=campaign, size=10, seed=2)
    session.commit()
    assert len(pool_audit.sample_accounts(session, campaign)) == 10


def test_audit_pages_draw_decide_and_stay_within_the_brand(app, client):
    gen_user(app, role="reviewer")
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        gen_pool(session, {f"acc{i:02d}": ({"coffee": 0.9}, 70, 0.1 * (i % 10), {})
                           for i in range(30)})
        mine = gen_campaign(session, bot_strictness="0.5", languages=[], score_min=0)
        theirs = gen_campaign(session, brand="Brand B", name="Other", bot_strictness="0.5",
                              languages=[], score_min=0)
    AuthActions(client).login()
    page = client.get("/review/threshold").get_data(as_text=True)
    assert "Audit this pool" in page and "estimates from other data" in page.lower()
    assert client.post(f"/review/audit/{mine.id}/draw", data={"size": "20"}).status_code == 302
    page = client.get(f"/review/audit/{mine.id}").get_data(as_text=True)
    assert page.count('value="') > 20 and "0 of 20 sample accounts decided" in page
    assert client.get(f"/review/audit/{theirs.id}").status_code == 404
    assert client.post(f"/review/audit/{theirs.id}/draw").status_code == 404
