"""The campaign form's expected-shortlist preview: GET /campaigns/preview answers the funnel of
the form's current values, the same numbers the saved campaign gets, and stores nothing."""

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from perks.campaigns import matching
from perks.detection import policy
from perks.models import Campaign, ShortlistEntry
from tests.conftest import AuthActions, gen_user, make_test_app
from tests.test_campaigns import _form, gen_pool


@pytest.fixture
def campaigns_app(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path)
    gen_user(app)
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        gen_pool(session)
    yield app
    app.extensions["perks_engine"].dispose()


@pytest.fixture
def client(campaigns_app):
    client = campaigns_app.test_client()
    AuthActions(client).login()
    return client


def _count(app, model) -> int:
    with Session(app.extensions["perks_engine"]) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_preview_is_the_saved_campaigns_funnel_and_writes_nothing(client, campaigns_app):
    query = _form()
    answer = client.get("/campaigns/preview", query_string=query)
    preview = answer.get_json()
    assert answer.status_code == 200 and preview["ok"] is True
    assert _count(campaigns_app, Campaign) == 0 and _count(campaigns_app, ShortlistEntry) == 0
    client.post("/campaigns/new", data=query)
    with Session(campaigns_app.extensions["perks_engine"]) as session:
        campaign = session.execute(select(Campaign)).scalar_one()
        saved = matching.funnel(session, campaign,
                                bot_threshold=policy.campaign_threshold(campaign))
    assert (preview["eligible"], preview["offered"], preview["quantity"]) == (
        saved.eligible, saved.offered, 2)
    assert [s["remaining"] for s in preview["stages"]] == [s.remaining for s in saved.stages]


def test_preview_names_the_first_problem(client):
    answer = client.get("/campaigns/preview", query_string=_form(topics=None)).get_json()
    assert answer == {"ok": False, "errors": ["Topics: pick at least one"]}
