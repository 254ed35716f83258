"""Review: the queue, decisions with optimistic locking and audit, brand isolation, the
threshold view and retraining from reviews (the CLI and web pages: test_review_interfaces)."""

import json
import shutil

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from perks.auth.users import create_user, get_or_create_brand
from perks.campaigns import allocation, matching, why_not
from perks.detection import Detector
from perks.detection.training import load_table
from perks.models import Account, ReviewAudit
from perks.paths import CARD_PATH, MODEL_PATH
from perks.review import decisions
from perks.review.learning import retrain_with_reviews
from perks.review.queue import queue_page
from perks.review.threshold import threshold_view
from tests.conftest import FAST_HASH, TEST_PASSWORD
from tests.test_campaigns import gen_campaign, gen_pool

# handle: (topics, percentile, bot probability, extra). Flagged at 0.5: max, pia, ola (model)
# and rex (a rule flag); kid is a flagged minor and dan matches no topic: neither is queued.
POOL = {
    "ana": ({"coffee": 0.9}, 90, 0.1, {}),
    "ben": ({"coffee": 0.8}, 80, 0.05, {}),
    "max": ({"coffee": 0.9}, 90, 0.93, {}),    # importance 0.81 x 0.93 = 0.7533
    "ola": ({"coffee": 0.7}, 70, 0.95, {}),    # 0.49 x 0.95 = 0.4655
    "pia": ({"coffee": 0.9}, 95, 0.6, {}),     # 0.855 x 0.6 = 0.513
    "rex": ({"coffee": 0.9}, 90, 0.1, {}),     # 0.81 x 0.1 = 0.081, rule flag
    "kid": ({"coffee": 0.9}, 90, 0.99, {"is_minor": True}),
    "dan": (None, 90, 0.99, {}),
}
CAMPAIGN = {"bot_strictness": "0.5", "languages": [], "min_topic_weight": 0.3,
            "score_min": 60, "quantity": 2}


def gen_review_pool(session: Session) -> dict[str, int]:
    ids = gen_pool(session, POOL)
    session.execute(update(Account).where(Account.id == ids["rex"])
                    .values(bot_flags=["automation_tools"]))
    session.execute(update(Account).values(bot_model_version="1.0+test"))
    session.commit()
    return ids


def gen_reviewer(session: Session, email="rita@brand-a.example", brand="Brand A"):
    brand_row = get_or_create_brand(session=session, name=brand)
    user = create_user(session=session, email=email, password=TEST_PASSWORD, brand=brand_row,
                       role="reviewer", hash_method=FAST_HASH)
    session.commit()
    return user


def handles(page) -> list[str]:
    return [item.screen_name for item in page.items]


def offered(session, campaign) -> set[int]:
    return {a for (a,) in session.execute(
        select(allocation.entry.c.account_id).where(
            allocation.entry.c.campaign_id == campaign.id,
            allocation.entry.c.status.in_(("offered", "approved", "waitlist"))))}


def test_queue_orders_by_relevance_times_probability_and_skips_the_unmatched(session):
    gen_review_pool(session)
    campaign = gen_campaign(session, **CAMPAIGN)
    page = queue_page(session, brand_id=campaign.brand_id)
    assert handles(page) == ["max", "pia", "ola", "rex"]
    assert [item.importance for item in page.items] == [0.7533, 0.513, 0.4655, 0.081]
    top = page.items[0]
    assert top.probability == 0.93 and top.reasons == ["posts every 60 s"]
    assert top.campaigns == [{"id": campaign.id, "name": "Coffee week", "relevance": 0.81}]
    assert page.items[-1].rule_flags == ["automation_tools"]
    assert (top.decision, top.version) == (None, 0)
    assert handles(queue_page(session, brand_id=campaign.brand_id, per_page=2, page=2)) == [
        "ola", "rex"]


def test_queue_filters_by_campaign_reason_and_state(session):
    ids = gen_review_pool(session)
    coffee = gen_campaign(session, **CAMPAIGN)
    top = gen_campaign(session, **{**CAMPAIGN, "name": "Top only", "score_min": 92})
    brand = coffee.brand_id
    assert handles(queue_page(session, brand_id=brand, campaign_id=top.id)) == ["pia"]
    assert handles(queue_page(session, brand_id=brand, reason="model")) == ["max", "pia", "ola"]
    assert handles(queue_page(session, brand_id=brand, reason="automation_tools")) == ["rex"]
    pia = queue_page(session, brand_id=brand).items[1]
    assert [c["name"] for c in pia.campaigns] == ["Coffee week", "Top only"]
    decisions.decide(session=session, brand_id=brand, account_id=ids["max"],
                     decision="automated", user_id=None, expected_version=0)
    assert handles(queue_page(session, brand_id=brand)) == ["pia", "ola", "rex"]
    assert handles(queue_page(session, brand_id=brand, state="automated")) == ["max"]
    assert handles(queue_page(session, brand_id=brand, state="all"))[0] == "max"


def test_genuine_clears_for_every_campaign_of_the_brand_at_once(session):
    ids = gen_review_pool(session)
    coffee = gen_campaign(session, **CAMPAIGN)
    top = gen_campaign(session, **{**CAMPAIGN, "name": "Top only", "score_min": 92})
    for campaign in (coffee, top):
        allocation.refresh(session, campaign, bot_threshold=0.5)
    assert ids["pia"] not in offered(session, coffee) | offered(session, top)
    assert why_not.why_not(session, coffee, "rex", bot_threshold=0.5).stage == "flagged"
    decisions.decide(session=session, brand_id=coffee.brand_id, account_id=ids["pia"],
                     decision="genuine", note="a real barista", user_id=None,
                     expected_version=0)
    decisions.decide(session=session, brand_id=coffee.brand_id, account_id=ids["max"],
                     decision="unsure", user_id=None, expected_version=0)
    # Stored shortlists changed without a manual refresh, in both campaigns.
    assert ids["pia"] in offered(session, coffee) and ids["pia"] in offered(session, top)
    assert ids["max"] not in offered(session, coffee)
    assert why_not.why_not(session, coffee, "pia", bot_threshold=0.5).reason == (
        "on the shortlist at rank 1")
    flagged = [s for s in matching.funnel(session, coffee, bot_threshold=0.5).stages
               if s.key == "flagged"][0]
    assert flagged.removed == 3  # max, ola, rex; pia is cleared
    # Changing a decision later takes effect just as fast.
    decisions.decide(session=session, brand_id=coffee.brand_id, account_id=ids["pia"],
                     decision="automated", user_id=None, expected_version=1)
    assert ids["pia"] not in offered(session, coffee)


def test_every_change_writes_an_audit_row_with_model_version_and_probability(session):
    ids = gen_review_pool(session)
    campaign = gen_campaign(session, **CAMPAIGN)
    rita = gen_reviewer(session)
    decisions.decide(session=session, brand_id=campaign.brand_id, account_id=ids["pia"],
                     decision="unsure", user_id=rita.id, expected_version=0)
    decisions.decide(session=session, brand_id=campaign.brand_id, account_id=ids["pia"],
                     decision="genuine", note="checked the website", user_id=rita.id,
                     expected_version=1)
    session.commit()
    trail = decisions.audit_trail(session=session, brand_id=campaign.brand_id,
                                  account_id=ids["pia"])
    assert [(a["before"], a["after"]) for a in trail] == [("unsure", "genuine"),
                                                          (None, "unsure")]
    assert trail[0] | {"at": None} == {
        "at": None, "who": "rita@brand-a.example", "before": "unsure", "after": "genuine",
        "note": "checked the website", "model_version": "1.0+test", "probability": 0.6,
        "account": "@pia", "outcome": None}


def test_second_reviewer_gets_a_conflict_showing_the_first_decision(db_app):
    engine = db_app.extensions["perks_engine"]
    with Session(engine) as setup:
        ids = gen_review_pool(setup)
        campaign = gen_campaign(setup, **CAMPAIGN)
        rita = gen_reviewer(setup)
        brand, rita_id = campaign.brand_id, rita.id
    with Session(engine) as first, Session(engine) as second:
        seen_first = queue_page(first, brand_id=brand).items[1]
        seen_second = queue_page(second, brand_id=brand).items[1]
        first.rollback()
        second.rollback()
        assert seen_first.screen_name == seen_second.screen_name == "pia"
        decisions.decide(session=first, brand_id=brand, account_id=ids["pia"],
                         decision="genuine", note="real", user_id=rita_id,
                         expected_version=seen_first.version)
        first.commit()
        with pytest.raises(decisions.DecisionConflict) as raised:
            decisions.decide(session=second, brand_id=brand, account_id=ids["pia"],
                             decision="automated", user_id=None,
                             expected_version=seen_second.version)
        second.commit()  # what the web, API and CLI do: the refused side stays in the trail
        current = raised.value.current
        assert (current.decision, current.version, current.decided_by, current.note) == (
            "genuine", 1, "rita@brand-a.example", "real")
        assert "@pia was already decided: “genuine” by rita@brand-a.example" in str(
            raised.value)
        # The same on an existing decision: both saw version 1, the first moves it to 2.
        decisions.decide(session=first, brand_id=brand, account_id=ids["pia"],
                         decision="unsure", user_id=None, expected_version=1)
        first.commit()
        with pytest.raises(decisions.DecisionConflict):
            decisions.decide(session=second, brand_id=brand, account_id=ids["pia"],
                             decision="automated", user_id=None, expected_version=1)
        second.commit()
    with Session(engine) as check:
        stored = decisions.current_decision(session=check, brand_id=brand,
                                            account_id=ids["pia"])
        audits = check.execute(select(ReviewAudit.before, ReviewAudit.after, ReviewAudit.outcome)
                               .order_by(ReviewAudit.id)).all()
    assert (stored.decision, stored.version) == ("unsure", 2)
    # Nothing silently lost: each refused decision is there, with what it lost to.
    assert [tuple(a) for a in audits] == [(None, "genuine", None),
                                          ("genuine", "automated", "lost"),
                                          ("genuine", "unsure", None),
                                          ("unsure", "automated", "lost")]


def test_bulk_decides_the_rest_and_reports_conflicts(session):
    ids = gen_review_pool(session)
    campaign = gen_campaign(session, **CAMPAIGN)
    decisions.decide(session=session, brand_id=campaign.brand_id, account_id=ids["ola"],
                     decision="unsure", user_id=None, expected_version=0)
    result = decisions.decide_many(
        session=session, brand_id=campaign.brand_id, decision="automated", user_id=None,
        items=[(ids["max"], 0), (ids["ola"], 0), (ids["rex"], 0)])
    assert result.decided == [ids["max"], ids["rex"]]
    assert [c.current.decision for c in result.conflicts] == ["unsure"]
    assert handles(queue_page(session, brand_id=campaign.brand_id)) == ["pia"]


def test_decisions_belong_to_their_brand(session):
    ids = gen_review_pool(session)
    mine = gen_campaign(session, **CAMPAIGN)
    theirs = gen_campaign(session, brand="Brand B", **CAMPAIGN)
    decisions.decide(session=session, brand_id=theirs.brand_id, account_id=ids["pia"],
                     decision="genuine", user_id=None, expected_version=0)
    assert why_not.why_not(session, mine, "pia", bot_threshold=0.5).stage == "flagged"
    assert why_not.why_not(session, theirs, "pia", bot_threshold=0.5).stage is None
    assert handles(queue_page(session, brand_id=mine.brand_id, state="decided")) == []
    assert decisions.audit_trail(session=session, brand_id=mine.brand_id,
                                 account_id=ids["pia"]) == []
    with pytest.raises(decisions.ReviewError):
        decisions.decide(session=session, brand_id=mine.brand_id, account_id=ids["pia"],
                         decision="maybe", user_id=None, expected_version=0)


def test_threshold_view_counts_candidates_per_band(session):
    gen_review_pool(session)
    campaign = gen_campaign(session, **CAMPAIGN)
    view = threshold_view(session=session, brand_id=campaign.brand_id,
                          detector=Detector.load())
    bands = {b["low"]: b["accounts"] for b in view["bands"]}
    # Candidates: ana ben max ola pia rex (kid is a minor, dan has no topic).
    assert sum(bands.values()) == 6
    assert (bands[0.0], bands[0.1], bands[0.6], bands[0.9]) == (1, 2, 1, 2)
    names = {s.name: s for s in view["settings"]}
    assert {"lenient", "balanced", "strict"} <= set(names)
    assert names["custom 0.5"].campaigns == ["Coffee week"]
    assert names["balanced"].precision is not None  # a cross-collection estimate
    assert "other data" in view["note"]


@pytest.fixture
def small_table(monkeypatch):
    """A few hundred rows of the bundled table, every group, and a 10-tree model: retraining
    takes seconds, not minutes."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    from perks.detection import model as detection_model

    monkeypatch.setattr(detection_model, "build_pipeline", lambda seed=0: CalibratedClassifierCV(
        HistGradientBoostingClassifier(max_iter=10, random_state=seed), method="sigmoid", cv=2))
    table, sha = load_table()
    rng = np.random.default_rng(1)
    keep = np.concatenate([rng.choice(np.flatnonzero(table.groups == g), 60, replace=False)
                           for g in np.unique(table.groups)])
    table.features, table.labels, table.groups = (table.features[keep], table.labels[keep],
                                                  table.groups[keep])
    return table, sha


def test_retrain_with_reviews_adds_rows_bumps_version_and_rescores(session, small_table,
                                                                   tmp_path):
    ids = gen_review_pool(session)
    campaign = gen_campaign(session, **CAMPAIGN)
    other = gen_campaign(session, brand="Brand B", **CAMPAIGN)
    for handle, decision in (("max", "automated"), ("ola", "automated"), ("pia", "genuine"),
                             ("rex", "unsure")):
        decisions.decide(session=session, brand_id=campaign.brand_id, account_id=ids[handle],
                         decision=decision, user_id=None, expected_version=0)
    # Two brands disagreeing about ola: not a label.
    decisions.decide(session=session, brand_id=other.brand_id, account_id=ids["ola"],
                     decision="genuine", user_id=None, expected_version=0)
    session.commit()
    model_path = tmp_path / "bot_model.skops"
    shutil.copy(MODEL_PATH, model_path)
    shutil.copy(CARD_PATH, tmp_path / CARD_PATH.name)
    before_version = Detector.load(model_path).version
    table, sha = small_table
    result = retrain_with_reviews(session=session, table=table, table_sha=sha,
                                  model_path=model_path)
    assert (result.reviewed_rows, result.automated, result.genuine) == (2, 1, 1)
    assert result.skipped == {"disagreeing brands": 1, "unsure": 1}
    assert result.version_before == before_version
    assert result.version_after.endswith(".r2") and result.version_after != before_version
    assert result.before["reviewed"]["n"] == result.after["reviewed"]["n"] == 2
    assert 0.5 < result.after["cv5_roc_auc"] <= 1.0
    card = json.loads((tmp_path / CARD_PATH.name).read_text())
    assert card["version"] == result.version_after
    assert card["training_data"]["rows_per_group"]["perks-reviews/genuine"] == 1
    assert card["reviews"]["previous_version"] == before_version
    assert result.rescored == len(POOL)
    versions = set(session.execute(select(Account.bot_model_version)).scalars())
    assert versions == {result.version_after}
    assert Detector.load(model_path).version == result.version_after


def test_automated_after_approval_drops_it_and_promotes_the_next(session):
    ids = gen_review_pool(session)
    coffee = gen_campaign(session, **CAMPAIGN)
    decisions.decide(session=session, brand_id=coffee.brand_id, account_id=ids["pia"],
                     decision="genuine", user_id=None, expected_version=0)
    allocation.approve(session, coffee, [ids["pia"]])

    def holding_places():
        return {a for (a,) in session.execute(select(allocation.entry.c.account_id).where(
            allocation.entry.c.campaign_id == coffee.id,
            allocation.entry.c.status.in_(("offered", "approved"))))}

    before = holding_places()
    assert ids["pia"] in before and len(before) == CAMPAIGN["quantity"]
    decisions.decide(session=session, brand_id=coffee.brand_id, account_id=ids["pia"],
                     decision="automated", user_id=None, expected_version=1)
    status = session.execute(select(allocation.entry.c.status).where(
        allocation.entry.c.campaign_id == coffee.id,
        allocation.entry.c.account_id == ids["pia"])).scalar_one()
    assert status == "dropped"
    after = holding_places()
    assert ids["pia"] not in after and len(after) == CAMPAIGN["quantity"]  # next one moved up
