"""`perks topics`, the operator's taxonomy file through `perks score`, campaigns that name a
removed slug, and "did you mean" where slugs are typed."""

import json

import pytest
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.campaigns.store import CampaignError, create_campaign
from perks.importing import import_records
from perks.topics import load_taxonomy
from tests.conftest import gen_token, gen_user
from tests.test_campaigns import COFFEE
from tests.test_scoring import accounts_by_handle, gen_records, topics_of


def write_taxonomy(tmp_path, topics, name="taxonomy.json"):
    path = tmp_path / name
    path.write_text(json.dumps(topics), encoding="utf-8")
    return path


def cli_json(runner, *args):
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def engine(app):
    return app.extensions["perks_engine"]


def import_pool(engine, extra=()):
    with Session(engine) as session:
        records = gen_records() + [dict(gen_records()[0], id=7, screen_name="tea_fan",
                                        description="Matcha and green tea every morning"),
                                   *extra]
        assert import_records(session, enumerate(records, 1), source_name="t").rejected == 0


def test_topics_lists_slugs_labels_and_keyword_counts(runner):
    listed = cli_json(runner, "topics")
    bundled = load_taxonomy()
    assert [(t["slug"], t["label"], t["keywords"]) for t in listed["topics"]] == [
        (t.slug, t.label, len(t.keywords)) for t in bundled]
    assert listed["source"] == "bundled" and listed["topics_current"] is None
    assert listed["keywords"] == sum(len(t.keywords) for t in bundled)
    text = runner.invoke(args=["topics"]).output
    assert f"{len(bundled)} topics" in text and "no topics inferred yet" in text
    assert "coffee" in text and "Coffee" in text


def test_custom_taxonomy_is_used_by_the_next_score_and_removed_slugs_are_reported(
        app, runner, engine, client, auth, tmp_path, monkeypatch):
    with app.app_context():
        import_pool(engine)
        assert runner.invoke(args=["score"]).exit_code == 0
        assert cli_json(runner, "topics")["topics_current"] is True
        with Session(engine) as session:
            brand = get_or_create_brand(session=session, name="Brand A")
            create_campaign(session=session, brand_id=brand.id, data=COFFEE)
            session.commit()
            tea_fan = accounts_by_handle(session)["tea_fan"]
            assert "tea" not in topics_of(session, tea_fan.id)

        # The operator adds a topic: extend mode keeps the bundled ones.
        tea = write_taxonomy(tmp_path, [{"slug": "tea", "label": "Tea",
                                         "keywords": {"en": ["tea", "matcha", "green tea"]}}])
        monkeypatch.setenv("PERKS_TAXONOMY_PATH", str(tea))
        listed = cli_json(runner, "topics")
        assert listed["source"] == str(tea) and listed["topics_current"] is False
        assert "run `perks score`" in runner.invoke(args=["topics"]).output
        scored = runner.invoke(args=["score"])
        assert "taxonomy changed since the last run" in scored.output
        with Session(engine) as session:
            accounts = accounts_by_handle(session)
            assert topics_of(session, accounts["tea_fan"].id)["tea"][1] == "inferred"
            assert topics_of(session, accounts["big"].id)["coffee"][1] == "inferred"
        assert cli_json(runner, "topics")["topics_current"] is True
        assert cli_json(runner, "campaign", "list")[0]["missing_topics"] == []

        # Replace mode without coffee: inferred coffee rows go, the campaign says its slug is gone.
        monkeypatch.setenv("PERKS_TAXONOMY_MODE", "replace")
        assert runner.invoke(args=["score"]).exit_code == 0
        with Session(engine) as session:
            assert "coffee" not in topics_of(session, accounts_by_handle(session)["big"].id)
        assert cli_json(runner, "campaign", "list")[0]["missing_topics"] == ["coffee"]
        listed = runner.invoke(args=["campaign", "list"]).output
        assert "no longer in the taxonomy: coffee" in listed
        assert cli_json(runner, "topics")["campaigns_with_missing_topics"] == [
            {"id": 1, "name": "Coffee week", "missing": ["coffee"]}]
        auth.login()
        page = client.get("/campaigns/").get_data(as_text=True)
        assert "No longer in the taxonomy: coffee" in page
        # A removed slug is no longer offered, nor accepted for a new campaign.
        form = client.get("/campaigns/new").get_data(as_text=True)
        assert 'value="tea"' in form and 'value="coffee"' not in form
        with Session(engine) as session, pytest.raises(CampaignError, match="not in the taxonomy"):
            create_campaign(session=session, brand_id=1, data=COFFEE | {"name": "Again"})


@pytest.mark.parametrize(("typed", "hint"), [
    ("coffe", "coffe (did you mean coffee?)"),
    ("knitting", "knitting (did you mean diy?)"),
    ("basket", "basket (did you mean basketball"),
])
def test_unknown_slug_gets_did_you_mean_from_the_cli_and_the_api(app, runner, typed, hint):
    gen_user(app)
    result = runner.invoke(args=["campaign", "create", "--brand", "Brand A", "--name", "X",
                                 "--topics", typed])
    assert result.exit_code == 1 and hint in result.output
    token = gen_token(app)
    answer = app.test_client().post("/api/v1/campaigns", json={"name": "X", "topics": [typed]},
                                    headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422 and hint in json.dumps(answer.get_json())


def test_import_of_an_unknown_topic_slug_suggests_one(app, engine):
    reasons = []
    with Session(engine) as session:
        good = dict(gen_records()[0], id=8, screen_name="fine")
        record = dict(gen_records()[0], id=9, screen_name="typo", topics={"cofee": 0.9})
        result = import_records(session, enumerate([good, record], 1), source_name="t",
                                on_reject=lambda line, field, reason: reasons.append(reason))
    assert result.rejected == 1
    assert "cofee (did you mean coffee?)" in reasons[0]


def test_bad_taxonomy_setting_is_a_clear_cli_error(runner, monkeypatch, tmp_path):
    bad = write_taxonomy(tmp_path, [{"slug": "Tea", "label": "Tea", "keywords": ["tea"]}])
    monkeypatch.setenv("PERKS_TAXONOMY_PATH", str(bad))
    result = runner.invoke(args=["topics"])
    assert result.exit_code == 1 and "bad slug 'Tea'" in result.output
