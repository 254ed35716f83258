"""Campaign page charts (histograms counted in SQL) and the bot-strictness trade-off table."""

import re

import pytest
from sqlalchemy import update
from sqlmodel import Session

from perks.campaigns import charts, matching
from perks.detection import policy
from perks.detection.policy import strictness_table
from perks.models import Account
from tests.test_campaigns import COFFEE, gen_campaign, gen_pool


def _counts(hist) -> dict[int, int]:
    return {i: b.count for i, b in enumerate(hist.bins) if b.count}


def test_score_histogram_counts_the_topic_matched_pool_and_marks_the_range(session):
    gen_pool(session)
    # on a bin edge: 60 belongs to [60, 65); the top of the axis falls in the last bin
    session.execute(update(Account).where(Account.screen_name == "ben")
                    .values(influence_percentile=100))
    session.commit()
    hist = charts.score_histogram(session, gen_campaign(session), bot_threshold=0.5)
    # 12 accounts pass the topic stage (dan and eve do not); gus has no percentile
    assert _counts(hist) == {18: 7, 19: 1, 14: 1, 12: 1, 8: 1}
    assert hist.missing == 1 and hist.total == 11
    assert [b.marked for b in hist.bins] == [False] * 12 + [True] * 8  # range 60-100
    assert hist.marked == 10
    assert [label for _, label in hist.marks] == ["from 60", "to 100"]


def test_score_histogram_follows_absolute_mode(session):
    gen_pool(session)
    campaign = gen_campaign(session, score_mode="absolute", score_min=30, score_max=42)
    hist = charts.score_histogram(session, campaign, bot_threshold=0.5)
    assert hist.unit == "score"
    assert _counts(hist) == {9: 7, 8: 1, 7: 1, 6: 1, 4: 1}  # scores are percentile / 2
    assert [i for i, b in enumerate(hist.bins) if b.marked] == [6, 7, 8]


def test_bot_histogram_marks_bins_reaching_the_threshold(session):
    gen_pool(session)
    campaign = gen_campaign(session)
    hist = charts.bot_histogram(session, campaign, bot_threshold=0.5)
    # The accounts the flagged stage looks at: 0.1 and 0.05 sit on bin edges and count in the
    # upper bin; cai is not assessed
    assert _counts(hist) == {2: 2, 1: 1, 18: 1}
    assert hist.missing == 1
    assert [i for i, b in enumerate(hist.bins) if b.marked] == list(range(10, 20))
    assert hist.marked == 1 and hist.position(0.5) == 0.5
    funnel = matching.funnel(session, campaign, bot_threshold=0.5)
    assert hist.total + hist.missing == funnel.remaining("privacy")
    assert hist.marked == funnel.removed("flagged")


def test_charts_on_an_empty_topic_pool(session):
    gen_pool(session)
    campaign = gen_campaign(session, topics=["baking"], min_topic_weight=0.95)
    both = charts.campaign_charts(session, campaign, bot_threshold=0.5)
    assert both.score.total == both.bot.total == 0 and both.score.tallest == 0


@pytest.fixture
def page_client(app, client, auth):
    auth.login()
    with Session(app.extensions["perks_engine"]) as session:
        gen_pool(session)
    return client


def _new_campaign(client) -> str:
    data = {**COFFEE, "quantity": "2", "languages": "en", "bot_strictness": "balanced",
            "one_per_person": "y", "topic_mode": "any"}
    response = client.post("/campaigns/new", data=data)
    assert response.status_code == 302
    return response.headers["Location"]


def test_campaign_page_draws_both_histograms_without_script(page_client):
    html = page_client.get(_new_campaign(page_client)).data.decode()
    assert html.count('<figure class="histogram">') == 2
    assert "Percentile of the topic-matched pool: 11 accounts" in html
    assert "1 without a percentile" in html and "threshold 0.20" in html
    assert len(re.findall(r'<rect class="(?:in|out)"', html)) == 40
    assert "<script" not in html


def test_form_shows_precision_and_recall_per_strictness(page_client):
    html = page_client.get("/campaigns/new").data.decode()
    table = strictness_table()
    assert table is not None and [s.name for s in table.settings] == [
        "lenient", "balanced", "strict"]
    # stricter settings flag more: lower threshold, higher recall, lower precision
    thresholds = [s.threshold for s in table.settings]
    recalls = [s.recall for s in table.settings]
    assert thresholds == sorted(thresholds, reverse=True) and recalls == sorted(recalls)
    for s in table.settings:
        assert f"{s.precision * 100:.0f}%</td>" in html and f"{s.recall * 100:.0f}%</td>" in html


def test_form_says_when_the_bot_model_cannot_load(page_client, monkeypatch):
    def missing(brand_id=None):
        raise FileNotFoundError("no bot model")

    monkeypatch.setattr(policy, "current_detector", missing)
    html = page_client.get("/campaigns/new").data.decode()
    assert "The bot model could not be loaded" in html
    assert 'class="strictness"' not in html
