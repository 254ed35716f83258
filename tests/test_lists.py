"""Brand lists (perks.accounts.lists): names, the import hook (list-only accounts, members,
undo), `perks import --brand --list`, and the campaign audience (shared, lists, both)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from perks.accounts import lists
from perks.auth.users import get_or_create_brand
from perks.campaigns import matching, service, why_not
from perks.importing import ImportFormatError, import_file, import_records
from perks.importing import batches as batches_module
from perks.models import Account, AccountListMember, ImportUndo
from tests.test_campaigns import gen_campaign, gen_pool

ROW = {"friends_count": 1, "statuses_count": 1, "favourites_count": 1, "listed_count": 1,
       "followers_count": 1000, "lang": "en", "location": "Milano, Italy",
       "topics": {"coffee": 0.9}}


def _rows(*handles: str, start: int = 100, **extra) -> list[tuple[int, dict]]:
    return list(enumerate([{**ROW, "id": start + i, "screen_name": h, **extra}
                           for i, h in enumerate(handles)], 1))


def _brand_list(session: Session, brand: str = "Brand A", name: str = "Spring uploads"):
    brand_id = get_or_create_brand(session=session, name=brand).id
    session.commit()
    return lists.get_or_create_list(session, brand_id=brand_id, name=name)


def _state(session: Session) -> dict[str, tuple[bool, set[int]]]:
    """handle -> (shared, ids of the lists holding it)."""
    members: dict[int, set[int]] = {}
    for list_id, account_id in session.execute(
            select(AccountListMember.list_id, AccountListMember.account_id)):
        members.setdefault(account_id, set()).add(list_id)
    return {a.screen_name: (a.shared, members.get(a.id, set()))
            for a in session.exec(select(Account)).scalars()}


def _score(session: Session, percentile: float = 90.0) -> None:
    session.execute(update(Account).values(influence_percentile=percentile,
                                           influence_score=percentile / 2, bot_probability=0.1))
    session.commit()


# --- names -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "message"), [
    ("", "give a name"), ("   ", "give a name"), ("x" * 101, "at most 100 characters"),
    ("a/b", "use letters, digits"), ("<script>", "use letters, digits"),
    ("-leading", "starting with a letter or digit")])
def test_a_list_name_that_cannot_be_used_is_a_clear_error(session, name, message):
    brand_id = get_or_create_brand(session=session, name="Brand A").id
    with pytest.raises(lists.ListNameError, match=message) as raised:
        lists.get_or_create_list(session, brand_id=brand_id, name=name)
    assert str(raised.value).startswith("list name")
    assert lists.lists_for_brand(session, brand_id) == []


def test_a_list_is_found_again_by_its_trimmed_name_and_belongs_to_one_brand(session):
    first = _brand_list(session, name="  Spring   uploads ")
    assert first.name == "Spring uploads"
    assert _brand_list(session, name="Spring uploads").id == first.id
    other = _brand_list(session, brand="Brand B", name="Spring uploads")
    assert other.id != first.id
    assert [x.name for x in lists.lists_for_brand(session, first.brand_id)] == ["Spring uploads"]


# --- the import hook -------------------------------------------------------------------------

def test_a_list_import_keeps_new_accounts_list_only_and_lists_every_stored_record(session):
    gen_pool(session)  # the shared demo pool: ana, ben, ...
    spring = _brand_list(session)
    ana = session.exec(select(Account).where(Account.screen_name == "ana")).scalars().one()
    records = [*_rows("lina", "luca"),
               # ana again, newer: updated; and an older copy of ana: unchanged
               (3, {**ROW, "id": ana.platform_id, "screen_name": "ana",
                    "crawled_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}),
               (4, {**ROW, "id": ana.platform_id, "screen_name": "ana",
                    "crawled_at": "2000-01-01T00:00:00"})]
    result = import_records(session, records, source_name="upload", account_list_id=spring.id,
                            observed_at=None)
    assert (result.imported, result.updated, result.unchanged) == (2, 1, 1)
    state = _state(session)
    assert state["lina"] == (False, {spring.id}) and state["luca"] == (False, {spring.id})
    assert state["ana"] == (True, {spring.id})  # a shared account stays shared
    assert state["ben"] == (True, set())
    # the same file again adds no second membership
    import_records(session, _rows("lina", "luca"), source_name="again",
                   account_list_id=spring.id)
    assert session.execute(select(func.count()).select_from(AccountListMember)).scalar_one() == 3


def test_a_shared_import_shares_a_list_only_account_even_as_an_older_observation(session):
    spring = _brand_list(session)
    import_records(session, _rows("lina", "luca", crawled_at="2025-01-01T00:00:00"),
                   source_name="upload", account_list_id=spring.id)
    import_records(session, [*_rows("lina", crawled_at="2026-01-01T00:00:00"),
                             *_rows("luca", start=101, crawled_at="2020-01-01T00:00:00")],
                   source_name="shared")
    state = _state(session)
    assert state["lina"] == (True, {spring.id})  # updated
    assert state["luca"] == (True, {spring.id})  # unchanged, but it arrived in the shared pool


def test_a_list_import_failing_half_way_leaves_no_membership(session, tmp_path, monkeypatch):
    monkeypatch.setattr(batches_module, "BATCH_SIZE", 2)
    spring = _brand_list(session)
    shared = [{**ROW, "id": str(i), "screen_name": f"s{i}", "crawled_at": "2020-01-01T00:00:00"}
              for i in range(3)]
    path = tmp_path / "shared.json"
    path.write_text(json.dumps(shared))
    import_file(session, path, rejects_path=tmp_path / "r.csv")
    import_records(session, _rows("s9", start=9, crawled_at="2020-01-01T00:00:00"),
                   source_name="earlier", account_list_id=spring.id)
    before = _state(session)

    upload = [{**ROW, "id": str(i), "screen_name": f"s{i}", "crawled_at": "2021-01-01T00:00:00"}
              for i in (*range(6), 9)]
    broken = tmp_path / "upload.json"
    broken.write_text(json.dumps(upload)[:-5])  # batches committed, then a truncated end
    with pytest.raises(ImportFormatError, match="the file ends early"):
        import_file(session, broken, rejects_path=tmp_path / "r.csv", account_list_id=spring.id)
    session.expire_all()
    assert _state(session) == before  # s9's earlier membership is kept, no new one is left
    assert session.execute(select(func.count()).select_from(ImportUndo)).scalar_one() == 0

    # and a failed shared import gives a list-only account back its place
    monkeypatch.setattr(batches_module, "BATCH_SIZE", 1)
    older = tmp_path / "older.json"
    older.write_text(json.dumps([{**ROW, "id": "9", "screen_name": "s9",
                                  "crawled_at": "2000-01-01T00:00:00"}, {**ROW}])[:-3])
    with pytest.raises(ImportFormatError):
        import_file(session, older, rejects_path=tmp_path / "r.csv")
    session.expire_all()
    assert _state(session)["s9"] == (False, {spring.id})


def test_perks_import_with_brand_and_list(app, runner, tmp_path):
    from tests.conftest import gen_user

    gen_user(app)  # Brand A
    path = tmp_path / "upload.csv"
    path.write_text("id,screen_name,followers_count,friends_count,statuses_count,"
                    "favourites_count,listed_count\n7,lina,10,1,1,1,1\n")
    result = runner.invoke(args=["import", str(path), "--brand", "brand a", "--list",
                                 "Spring uploads", "--observed-at", "2026-01-01"])
    assert result.exit_code == 0, result.output
    with Session(app.extensions["perks_engine"]) as session:
        assert _state(session) == {"lina": (False, {1})}
        assert [x.name for x in lists.lists_for_brand(session, 1)] == ["Spring uploads"]
    alone = runner.invoke(args=["import", str(path), "--list", "Spring uploads"])
    assert alone.exit_code == 2 and "--brand and --list go together" in alone.output
    bad = runner.invoke(args=["import", str(path), "--brand", "Brand A", "--list", "a/b"])
    assert bad.exit_code == 2 and "list name 'a/b'" in bad.output
    nobody = runner.invoke(args=["import", str(path), "--brand", "Nobody", "--list", "x"])
    assert nobody.exit_code == 1 and "no brand 'Nobody'" in nobody.output


# --- the campaign audience -------------------------------------------------------------------

def _audience_world(session: Session):
    """The shared demo pool, Brand A's list-only lina and list-held shared ana, and Brand B's
    list-only bea; all scored alike."""
    ids = gen_pool(session)
    spring = _brand_list(session)
    import_records(session, _rows("lina"), source_name="a", account_list_id=spring.id)
    lists.add_members(session, list_id=spring.id, account_ids=[ids["ana"]])
    session.commit()
    b_list = _brand_list(session, brand="Brand B", name="Mine")
    import_records(session, _rows("bea", start=200), source_name="b", account_list_id=b_list.id)
    session.execute(update(Account).where(Account.screen_name.in_(("lina", "bea")))
                    .values(influence_percentile=99.0, influence_score=49.5,
                            bot_probability=0.1))
    session.commit()
    return ids


def _shortlisted(session: Session, campaign) -> set[str]:
    ranked = matching.ranked_shortlist(session, campaign, bot_threshold=0.5, limit=100)
    by_id = dict(session.execute(select(Account.id, Account.screen_name)).all())
    return {by_id[r.account_id] for r in ranked}


@pytest.mark.parametrize(("audience", "pool", "has", "lacks"), [
    ("shared", 14, {"ana"}, {"lina", "bea"}),
    ("lists", 2, {"lina", "ana"}, {"bea"}),
    ("both", 15, {"lina", "ana"}, {"bea"}),
])
def test_the_audience_decides_the_pool_and_never_reaches_another_brands_list(
        session, audience, pool, has, lacks):
    _audience_world(session)
    campaign = gen_campaign(session, audience=audience, quantity=50)
    funnel = matching.funnel(session, campaign, bot_threshold=0.5)
    assert funnel.pool == pool
    shortlisted = _shortlisted(session, campaign)
    assert has <= shortlisted and not lacks & shortlisted
    answer = why_not.why_not(session, campaign, "bea", bot_threshold=0.5)
    assert answer.stage is None and answer.reason == "no account @bea in the pool"


def test_why_not_names_the_audience_for_an_account_the_brand_sees_outside_it(session):
    _audience_world(session)
    shared_only = gen_campaign(session, audience="shared", quantity=50)
    answer = why_not.why_not(session, shared_only, "lina", bot_threshold=0.5)
    assert answer.stage == "pool"
    assert answer.reason == ("only in your brand's lists; this campaign targets the shared "
                             "pool only")
    lists_only = gen_campaign(session, name="Lists", audience="lists", quantity=50)
    answer = why_not.why_not(session, lists_only, "ben", bot_threshold=0.5)
    assert answer.reason.startswith("in the shared pool; this campaign targets your brand's")


def test_the_fast_ranking_path_gives_the_general_answer_for_every_audience(session):
    from perks.campaigns import ranking

    _audience_world(session)
    for audience in ("shared", "lists", "both"):
        campaign = gen_campaign(session, name=f"Fast {audience}", audience=audience,
                                quantity=50, languages=[], followers_min=None)
        ctx = matching.context(session, campaign, bot_threshold=0.5)
        assert ranking.supports(ctx)
        fast = ranking.ranked_fast(session, ctx, limit=100)
        general = session.execute(matching.ranked_query(ctx).select()).all()
        assert sorted((a, k) for a, _r, k in fast) == sorted(
            (row.account_id, row.rank) for row in general), audience


def test_existing_campaigns_target_the_shared_pool_and_the_audience_can_change(session):
    from perks.campaigns.schema import FIELDS
    from perks.models import ShortlistEntry

    _audience_world(session)
    campaign = gen_campaign(session, quantity=50)
    assert campaign.audience == "shared"

    def stored() -> set[str]:
        return set(session.execute(
            select(Account.screen_name).join(ShortlistEntry,
                                             ShortlistEntry.account_id == Account.id)
            .where(ShortlistEntry.campaign_id == campaign.id)).scalars())

    service.refresh(session, campaign)
    session.commit()
    assert "lina" not in stored() and "ana" in stored()
    data = {name: getattr(campaign, name) for name in FIELDS}
    service.update(session=session, campaign=campaign, data={**data, "audience": "both"})
    session.commit()
    assert {"lina", "ana"} <= stored() and "bea" not in stored()


def test_every_door_sets_the_audience_and_refuses_an_unknown_one(app):
    from tests.conftest import AuthActions, gen_token, gen_user
    from tests.test_campaign_schema import MINIMAL, _form_post

    gen_user(app)
    client = app.test_client()
    AuthActions(client).login()
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert "Choose accounts from" in page and "Only the lists your brand uploaded" in page
    made = client.post("/campaigns/new", data=_form_post(audience="lists"))
    assert made.status_code == 302
    refused = client.post("/campaigns/new", data=_form_post(name="Odd", audience="everyone"))
    assert "Not a valid choice" in refused.get_data(as_text=True)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campaign", "create", "--brand", "Brand A", "--name", "Cli",
                                 "--topics", "coffee", "--audience", "both"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["campaign", "create", "--brand", "Brand A", "--name", "Bad",
                              "--topics", "coffee", "--audience", "everyone"])
    assert bad.exit_code == 2 and "--audience" in bad.output
    auth = {"Authorization": f"Bearer {gen_token(app)}"}
    answer = client.post("/api/v1/campaigns", headers=auth, json={**MINIMAL, "name": "Api"})
    assert answer.get_json()["audience"] == "shared"
    wrong = client.post("/api/v1/campaigns", headers=auth,
                        json={**MINIMAL, "name": "Api 2", "audience": "everyone"})
    assert wrong.status_code == 422 and "audience" in wrong.get_json()["problems"]
    with Session(app.extensions["perks_engine"]) as session:
        from perks.models import Campaign

        assert dict(session.execute(select(Campaign.name, Campaign.audience)).all()) == {
            "Schema week": "lists", "Cli": "both", "Api": "shared"}
