"""Review through its interfaces: `perks review` and `perks train --with-reviews`, and the
review pages of the web app."""

import json
import re

import pytest
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.review import decisions
from tests.conftest import AuthActions, gen_user
from tests.test_campaigns import gen_campaign
from tests.test_review import CAMPAIGN, gen_review_pool


@pytest.fixture
def review_app(app):
    with Session(app.extensions["perks_engine"]) as session:
        ids = gen_review_pool(session)
        gen_campaign(session, **CAMPAIGN)
    return app, ids


def test_cli_lists_and_decides(review_app):
    app, ids = review_app
    runner = app.test_cli_runner()
    gen_user(app)
    listed = runner.invoke(args=["review", "list", "--brand", "Brand A", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [i["screen_name"] for i in data["items"]] == ["max", "pia", "ola", "rex"]
    decided = runner.invoke(args=["review", "decide", "@pia", "--as", "genuine", "--brand",
                                  "Brand A", "--note", "real", "--by", "ana@brand-a.example",
                                  "--json"])
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.output) | {} == {"handle": "pia", "brand": "Brand A",
                                               "before": None, "after": "genuine",
                                               "version": 1}
    text = runner.invoke(args=["review", "list", "--brand", "Brand A"])
    assert "3 account(s) in the pending queue" in text.output and "@pia" not in text.output
    unknown = runner.invoke(args=["review", "decide", "nobody", "--as", "genuine",
                                  "--brand", "Brand A"])
    assert unknown.exit_code != 0 and "no account" in unknown.output
    stranger = runner.invoke(args=["review", "decide", "max", "--as", "genuine", "--brand",
                                   "Brand A", "--by", "nobody@x.example"])
    assert stranger.exit_code != 0


def test_web_queue_decides_and_shows_conflicts(review_app):
    app, ids = review_app
    client = app.test_client()
    assert client.get("/review/").status_code == 302  # the login wall
    gen_user(app)
    AuthActions(client).login()
    page = client.get("/review/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("@max") < html.index("@pia")
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/perks.js" defer>']
    assert 'accesskey="g"' in html
    answer = client.post("/review/decide", data={"one": f"{ids['pia']}:genuine",
                                                 f"version_{ids['pia']}": "0"},
                         follow_redirects=True)
    assert "1 marked “genuine”" in answer.get_data(as_text=True)
    stale = client.post("/review/decide", data={"account_id": [ids["pia"], ids["max"]],
                                                f"version_{ids['pia']}": "0",
                                                f"version_{ids['max']}": "0",
                                                "bulk": "automated"},
                        follow_redirects=True)
    text = stale.get_data(as_text=True)
    assert "1 marked “automated”" in text
    assert "Conflict: @pia was already decided: “genuine” by ana@brand-a.example" in text
    assert client.post("/review/decide", data={"one": f"{ids['ola']}:maybe"}).status_code == 400
    threshold = client.get("/review/threshold").get_data(as_text=True)
    assert "Precision" in threshold and "Your candidates by bot probability" in threshold


def test_web_queue_is_brand_scoped(review_app):
    app, ids = review_app
    client = app.test_client()
    gen_user(app, email="bo@brand-b.example", brand="Brand B")
    AuthActions(client).login(email="bo@brand-b.example")
    assert "Nothing to review here." in client.get("/review/").get_data(as_text=True)
    with Session(app.extensions["perks_engine"]) as session:
        brand_a = get_or_create_brand(session=session, name="Brand A").id
        decisions.decide(session=session, brand_id=brand_a, account_id=ids["pia"],
                         decision="genuine", user_id=None, expected_version=0)
        session.commit()
    assert "@pia" not in client.get("/review/?state=all").get_data(as_text=True)
    # Brand B deciding the same account records its own decision, not A's.
    client.post("/review/decide", data={"one": f"{ids['pia']}:automated",
                                        f"version_{ids['pia']}": "0"})
    with Session(app.extensions["perks_engine"]) as session:
        brand_b = get_or_create_brand(session=session, name="Brand B").id
        assert decisions.current_decision(session=session, brand_id=brand_a,
                                          account_id=ids["pia"]).decision == "genuine"
        assert decisions.current_decision(session=session, brand_id=brand_b,
                                          account_id=ids["pia"]).decision == "automated"


def test_train_with_reviews_runs_the_review_retrain(review_app, monkeypatch):
    app, _ids = review_app
    calls = []

    class Result:
        reviewed_rows, automated, genuine, skipped = 0, 0, 0, {}
        version_before = version_after = "v"
        before = after = {}
        rescored = None

        def as_dict(self):
            return {"reviewed_rows": 0, "version_after": "v"}

    def fake_retrain(**kwargs):
        calls.append(kwargs)
        return Result()

    monkeypatch.setattr("perks.review.learning.retrain_with_reviews", fake_retrain)
    result = app.test_cli_runner().invoke(args=["train", "--with-reviews", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"reviewed_rows": 0, "version_after": "v"}
    assert calls and calls[0]["rescore"] is True
