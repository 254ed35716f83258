"""Campaigns: the form, the matching funnel, allocation, why-not, export, CLI and web pages."""

import json
import re
from datetime import date

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.campaigns import allocation, matching, why_not
from perks.campaigns.store import CampaignError, create_campaign, get_campaign
from perks.importing import import_records
from perks.models import Account, Campaign
from tests.conftest import gen_token

# handle: (topics, percentile, bot probability, extra profile fields). Against COFFEE below each
# row is removed by exactly one stage, noted on the right.
POOL = {
    "ana": ({"coffee": 0.9}, 90, 0.1, {"person_id": "p1"}),          # offered (rank 1)
    "ben": ({"coffee": 0.8}, 80, 0.05, {}),                          # offered (rank 2)
    "cai": ({"coffee": 0.5, "baking": 0.9}, 70, None, {}),           # wait-listed (rank 3)
    "dan": (None, 95, 0.1, {}),                                      # topic: none
    "eve": ({"coffee": 0.2}, 95, 0.1, {}),                           # topic: weight too low
    "fay": ({"coffee": 0.9}, 41, 0.1, {}),                           # score: percentile 41
    "gus": ({"coffee": 0.9}, None, 0.1, {}),                         # score: not scored
    "hal": ({"coffee": 0.9}, 90, 0.1, {"lang": "fr"}),               # audience: language
    "ida": ({"coffee": 0.9}, 90, 0.1, {"followers_count": 50}),      # audience: followers
    "jon": ({"coffee": 0.9}, 90, 0.1, {"protected": True}),          # privacy: protected
    "kim": ({"coffee": 0.9}, 90, 0.1, {"is_minor": True}),           # privacy: minor
    "lea": ({"coffee": 0.9}, 90, 0.1, {"consent": "opted_out"}),     # privacy: opted out
    "max": ({"coffee": 0.9}, 90, 0.93, {}),                          # flagged
    "ned": ({"coffee": 0.6}, 60, 0.1, {"person_id": "p1"}),          # person: ana ranks higher
}
COFFEE = {"name": "Coffee week", "perk_description": "A bag of beans", "quantity": 2,
          "topics": ["coffee"], "min_topic_weight": 0.3, "score_mode": "percentile",
          "score_min": 60, "score_max": 100, "followers_min": 100, "languages": ["en"]}


def gen_pool(session: Session, pool: dict = POOL) -> dict[str, int]:
    rows = []
    for i, (handle, (topics, _pct, _bot, extra)) in enumerate(pool.items(), start=1):
        row = {"id": i, "screen_name": handle, "name": handle.title(), "followers_count": 1000,
               "friends_count": 1, "statuses_count": 1, "favourites_count": 1,
               "listed_count": 1, "lang": "en", "location": "Milano, Italy"}
        if topics:
            row["topics"] = topics
        row.update(extra)
        rows.append(row)
    import_records(session, enumerate(rows, 1), source_name="t")
    ids = {}
    for handle, (_topics, pct, bot, _extra) in pool.items():
        session.execute(update(Account).where(Account.screen_name == handle).values(
            influence_percentile=pct, influence_score=None if pct is None else pct / 2,
            bot_probability=bot, bot_reasons=[{"text": "posts every 60 s"}] if bot else None))
        ids[handle] = session.execute(
            Account.__table__.select().where(Account.screen_name == handle)).first().id
    session.commit()
    return ids


def gen_campaign(session: Session, brand: str = "Brand A", **changes):
    brand_row = get_or_create_brand(session=session, name=brand)
    campaign = create_campaign(session=session, brand_id=brand_row.id, data={**COFFEE, **changes})
    session.commit()
    return campaign


def test_funnel_counts_each_stage_once_in_order(session):
    gen_pool(session)
    campaign = gen_campaign(session)
    funnel = matching.funnel(session, campaign, bot_threshold=0.5)
    assert [(s.key, s.removed, s.remaining) for s in funnel.stages] == [
        ("pool", 0, 14), ("topic", 2, 12), ("score", 2, 10), ("audience", 2, 8),
        ("privacy", 3, 5), ("flagged", 1, 4), ("person", 1, 3), ("capacity", 1, 2)]
    assert funnel.eligible == 3 and funnel.offered == 2


def test_ranking_uses_documented_relevance_and_breaks_ties_by_id(session):
    ids = gen_pool(session)
    campaign = gen_campaign(session)
    ranked = matching.ranked_shortlist(session, campaign, bot_threshold=0.5, limit=10)
    assert [r.account_id for r in ranked] == [ids["ana"], ids["ben"], ids["cai"]]
    assert [round(r.relevance, 4) for r in ranked] == [0.81, 0.64, 0.35]
    everyone = gen_campaign(session, name="All", min_topic_weight=0, score_min=0,
                            languages=[], followers_min=None, one_per_person=False,
                            bot_strictness="0.99", quantity=50)
    ranked = matching.ranked_shortlist(session, everyone, bot_threshold=0.99, limit=50)
    tied = [r.account_id for r in ranked if round(r.relevance, 4) == 0.81]
    # ana, hal, ida and max tie at 0.9 x 90 / 100: lower account id first.
    assert tied == sorted(tied) and len(tied) == 4


def test_all_mode_needs_every_topic_and_uses_the_mean_weight(session):
    ids = gen_pool(session)
    campaign = gen_campaign(session, topics=["coffee", "baking"], topic_mode="all")
    ranked = matching.ranked_shortlist(session, campaign, bot_threshold=0.5, limit=10)
    assert [(r.account_id, round(r.relevance, 4)) for r in ranked] == [(ids["cai"], 0.49)]


@pytest.mark.parametrize(("handle", "stage", "reason"), [
    ("dan", "topic", "none of the campaign's topics (coffee)"),
    ("eve", "topic", "topic weight 0.2, campaign needs ≥ 0.3 in coffee"),
    ("fay", "score", "percentile 41, campaign needs 60–100"),
    ("gus", "score", "no percentile yet (not scored)"),
    ("hal", "audience", "language fr, campaign needs en"),
    ("ida", "audience", "50 followers, campaign needs ≥ 100"),
    ("jon", "privacy", "protected account: perks never shortlists locked-down profiles"),
    ("kim", "privacy", "a minor: perks never shortlists minors"),
    ("lea", "privacy", "opted out: perks never shortlists people who said no"),
    ("max", "flagged", "bot probability 0.93, campaign allows < 0.50 (posts every 60 s)"),
    ("ned", "person", "same person as @ana, who ranks higher"),
    ("cai", "capacity", "rank 3, campaign offers 2 perks: wait-listed"),
    ("@Ana", None, "on the shortlist at rank 1"),
    ("nobody", None, "no account @nobody in the pool"),
])
def test_why_not_names_the_stage_and_the_reason(session, handle, stage, reason):
    gen_pool(session)
    campaign = gen_campaign(session)
    answer = why_not.why_not(session, campaign, handle, bot_threshold=0.5)
    assert (answer.stage, answer.reason) == (stage, reason)


def test_allocation_offers_top_quantity_and_drop_promotes(session):
    ids = gen_pool(session)
    campaign = gen_campaign(session)
    counts = allocation.refresh(session, campaign, bot_threshold=0.5)
    assert counts == {"offered": 2, "approved": 0, "waitlist": 1, "dropped": 0}
    allocation.approve(session, campaign, [ids["ana"]])
    decision = allocation.drop(session, campaign, [ids["ben"]])
    assert decision.promoted == [ids["cai"]]
    assert allocation.approve(session, campaign, [ids["ben"]]).changed == 0  # dropped stays
    # A refresh keeps decisions: ben stays dropped, ana approved, cai offered.
    assert allocation.refresh(session, campaign, bot_threshold=0.5) == {
        "offered": 1, "approved": 1, "waitlist": 0, "dropped": 1}


def test_quantity_larger_than_the_pool_offers_everyone(session):
    gen_pool(session)
    campaign = gen_campaign(session, quantity=40)
    assert allocation.refresh(session, campaign, bot_threshold=0.5)["offered"] == 3
    funnel = matching.funnel(session, campaign, bot_threshold=0.5)
    assert funnel.stages[-1].removed == 0 and funnel.offered == 3


def test_approving_from_a_full_wait_list_is_refused(session):
    ids = gen_pool(session)
    campaign = gen_campaign(session)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    with pytest.raises(allocation.AllocationError, match="places are taken"):
        allocation.approve(session, campaign, [ids["cai"]])


def test_another_brands_campaign_is_not_found(session):
    campaign = gen_campaign(session)
    other = get_or_create_brand(session=session, name="Brand B")
    assert get_campaign(session=session, brand_id=other.id, campaign_id=campaign.id) is None
    assert get_campaign(session=session, brand_id=campaign.brand_id,
                        campaign_id=campaign.id) is campaign


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"topics": []}, "topics", "pick at least one"),
    ({"topics": ["knitting"]}, "topics", "not in the taxonomy: knitting (did you mean diy?)"),
    ({"quantity": 0}, "quantity", "must be at least 1"),
    ({"score_min": 80, "score_max": 20}, "score_max", "must not be below the lower end (80)"),
    ({"languages": ["english!"]}, "languages", "'english!' is not a language code"),
    ({"name": " "}, "name", "required"),
    ({"bot_strictness": "paranoid"}, "bot_strictness", "must be lenient, balanced, strict"),
    ({"starts_on": date(2026, 5, 2), "ends_on": date(2026, 5, 1)}, "ends_on",
     "ends before it starts (2026-05-02)"),
])
def test_store_refuses_bad_campaign_data(session, changes, field, message):
    with pytest.raises(CampaignError) as caught:
        gen_campaign(session, **changes)
    assert list(caught.value.problems) == [field]
    assert caught.value.problems[field].startswith(message)


def test_store_reports_every_problem_at_once_and_a_taken_name(session):
    gen_campaign(session)
    with pytest.raises(CampaignError) as caught:
        gen_campaign(session, quantity=0, topics=["knitting"], score_max=10)
    assert set(caught.value.problems) == {"name", "quantity", "topics", "score_max"}
    assert "already has a campaign named 'Coffee week'" in caught.value.problems["name"]


def test_standard_strictness_is_read_as_balanced(session):
    assert gen_campaign(session, bot_strictness="Standard").bot_strictness == "balanced"


# --- export, CLI and web -------------------------------------------------------------------

@pytest.fixture
def campaigns_app(sqlite_url, tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(sqlite_url, tmp_path)
    yield app
    app.extensions["perks_engine"].dispose()


@pytest.fixture
def web(campaigns_app):
    from tests.conftest import AuthActions, gen_user

    gen_user(campaigns_app)
    client = campaigns_app.test_client()
    AuthActions(client).login()
    with Session(campaigns_app.extensions["perks_engine"], expire_on_commit=False) as session:
        ids = gen_pool(session)
    return client, ids


def _form(**changes):
    data = {"name": "Coffee week", "perk_description": "Beans", "quantity": "2",
            "topics": ["coffee"], "topic_mode": "any", "min_topic_weight": "0.3",
            "score_mode": "percentile", "score_min": "60", "score_max": "100",
            "followers_min": "100", "languages": "en", "bot_strictness": "balanced",
            "one_per_person": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": ""}, "Name", "required"),
    ({"quantity": "0"}, "How many perks", "must be at least 1"),
    ({"quantity": ""}, "How many perks", "required"),
    ({"topics": None}, "Topics", "pick at least one"),
    ({"topics": ["knitting"]}, "Topics", "&#39;knitting&#39; is not a valid choice"),
    ({"score_min": "70", "score_max": "20"}, "Score up to",
     "must not be below the lower end (70)"),
    ({"languages": "en, english!"}, "Languages",
     "&#39;english!&#39; is not a language code such as en or pt-br"),
    ({"starts_on": "2026-05-02", "ends_on": "2026-05-01"}, "Ends on",
     "ends before it starts (2026-05-02)"),
])
def test_form_shows_a_clear_error_per_field(web, changes, field, message):
    client, _ids = web
    response = client.post("/campaigns/new", data=_form(**changes))
    assert response.status_code == 200
    assert f"{field}: {message}" in response.data.decode()


def test_web_journey_create_decide_why_not_and_export(web, campaigns_app, tmp_path):
    client, ids = web
    response = client.post("/campaigns/new", data=_form())
    assert response.status_code == 302
    url = response.headers["Location"]
    page = client.get(url).data.decode()
    assert "Consent and privacy" in page and "@ana" in page and "2 offered" in page
    assert "percentile 41, campaign needs 60–100" in client.get(url + "?handle=fay").data.decode()
    response = client.post(url + "/decide", data={"action": "drop", "account_id": ids["ben"]})
    assert response.status_code == 302
    assert "1 wait-listed" not in client.get(url).data.decode()  # cai was promoted
    download = client.get(url + "/export.csv?kind=analyst")
    assert download.headers["Content-Disposition"].startswith(
        'attachment; filename="coffee-week_analyst_')
    out = tmp_path / "cli.csv"
    result = campaigns_app.test_cli_runner().invoke(
        args=["export", "Coffee week", "-o", str(out), "--kind", "analyst"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == download.data
    assert b"/cai,offered,,,3," in download.data and b"/ben,dropped," in download.data


def test_another_brand_gets_404_everywhere(web, campaigns_app):
    client, _ids = web
    url = client.post("/campaigns/new", data=_form()).headers["Location"]
    from tests.conftest import AuthActions, gen_user

    gen_user(campaigns_app, email="bo@brand-b.example", brand="Brand B")
    AuthActions(client).logout()
    AuthActions(client).login("bo@brand-b.example")
    for path in ("", "/edit", "/export.csv"):
        assert client.get(url + path).status_code == 404
    assert client.post(url + "/decide", data={"action": "drop"}).status_code == 404
    assert "No campaigns yet." in client.get("/campaigns/").data.decode()


def test_cli_create_list_and_shortlist(campaigns_app):
    runner = campaigns_app.test_cli_runner()
    from tests.conftest import gen_user

    gen_user(campaigns_app)
    with Session(campaigns_app.extensions["perks_engine"]) as session:
        gen_pool(session)
    result = runner.invoke(args=["campaign", "create", "--brand", "brand a", "--name", "Beans",
                                 "--topics", "coffee", "--quantity", "2", "--score-min", "60",
                                 "--min-topic-weight", "0.3", "--languages", "en",
                                 "--followers-min", "100", "--bot-strictness", "0.5"])
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(args=["campaign", "list", "--json"]).output)
    assert [(c["name"], c["brand"], c["topics"]) for c in listed] == [
        ("Beans", "Brand A", ["coffee"])]
    shown = json.loads(runner.invoke(args=["shortlist", "Beans", "--json"]).output)
    assert [s["removed"] for s in shown["funnel"]["stages"]] == [0, 2, 2, 2, 3, 1, 1, 1]
    assert [r["handle"] for r in shown["shortlist"]] == ["ana", "ben", "cai"]
    bad = runner.invoke(args=["campaign", "create", "--brand", "Brand A", "--name", "X",
                              "--topics", "knitting"])
    assert bad.exit_code == 1 and "--topics: not in the taxonomy: knitting" in bad.output
    assert runner.invoke(args=["shortlist", "nope"]).exit_code == 1


@pytest.mark.parametrize(("starts", "ends", "state"), [
    (date(2030, 1, 1), None, "scheduled"),
    (None, date(2020, 1, 1), "ended"),
    (date(2020, 1, 1), date(2030, 1, 1), "running"),
])
def test_approvals_open_only_while_the_campaign_runs(session, starts, ends, state):
    gen_pool(session)
    campaign = gen_campaign(session, starts_on=starts, ends_on=ends)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    today = date(2025, 6, 1)
    assert allocation.running_state(campaign, today) == state
    offered_ids = [a for (a,) in session.execute(select(allocation.entry.c.account_id).where(
        allocation.entry.c.campaign_id == campaign.id, allocation.entry.c.status == "offered"))]
    if state == "running":
        assert allocation.approve(session, campaign, offered_ids[:1], today=today).changed == 1
    else:
        with pytest.raises(allocation.AllocationError, match="only while it runs"):
            allocation.approve(session, campaign, offered_ids[:1], today=today)


def test_why_not_lists_every_stage_an_account_fails(session):
    pool = {**POOL, "zed": ({"coffee": 0.9}, 41, 0.93, {"protected": True, "lang": "fr"})}
    gen_pool(session, pool)
    campaign = gen_campaign(session, score_max=95)
    answer = why_not.why_not(session, campaign, "zed", bot_threshold=0.5)
    assert [(f.stage, f.reason) for f in answer.failures] == [
        ("score", "percentile 41, campaign needs 60–95"),
        ("audience", "language fr, campaign needs en"),
        ("privacy", "protected account: perks never shortlists locked-down profiles"),
        ("flagged", "bot probability 0.93, campaign allows < 0.50 (posts every 60 s)"),
    ]
    assert answer.stage == "score" and "protected account" in answer.reason


@pytest.mark.parametrize(("stored", "shown"), [("standard", "balanced"), ("0.5", "0.5")])
def test_the_edit_form_keeps_a_stored_strictness(web, campaigns_app, stored, shown):
    client, _ids = web
    url = client.post("/campaigns/new", data=_form()).headers["Location"]
    with Session(campaigns_app.extensions["perks_engine"]) as session:
        session.execute(update(Campaign).values(bot_strictness=stored))
        session.commit()
    page = client.get(url + "/edit").data.decode()
    assert re.search(rf'<option selected value="{re.escape(shown)}">', page), page
    api = gen_token(campaigns_app)
    answer = client.get(url.replace("/campaigns/", "/api/v1/campaigns/"),
                        headers={"Authorization": f"Bearer {api}"}).get_json()
    assert answer["bot_strictness"] == shown


def test_the_form_shows_a_taken_name_on_the_name_field(web):
    client, _ids = web
    assert client.post("/campaigns/new", data=_form()).status_code == 302
    page = client.post("/campaigns/new", data=_form()).data.decode()
    assert "Name: this brand already has a campaign named &#39;Coffee week&#39;" in page
