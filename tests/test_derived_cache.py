"""The web's in-process caches (perks.web.derived) are keyed by the database's data version:
whatever writes (this app, another session, another process's connection), the next read
sees it; and reads alone never move the version."""

import re

from sqlalchemy import select, text, update
from sqlmodel import Session

from perks.auth.users import end_sessions, find_user, get_or_create_brand
from perks.db import data_version, make_engine
from perks.models import ShortlistEntry
from tests.security_support import A_EMAIL, bearer, build_world, login


def _counts(page: str) -> str:
    return re.search(r'<p class="count">([^<]+)</p>', page).group(1)


def test_the_data_version_moves_with_every_commit_and_only_then(db_app, session):
    first = data_version(session)
    assert first is not None
    session.execute(select(ShortlistEntry)).all()
    if session.get_bind().dialect.name == "sqlite":
        # Reading changes nothing. (PostgreSQL's snapshot is the server's: a write to any of
        # its databases moves it, so on a shared server it may move here too.)
        assert data_version(session) == first
    session.rollback()
    other = make_engine(str(db_app.extensions["perks_engine"].url.render_as_string(
        hide_password=False)))
    with Session(other) as writer:  # another engine: as another process would
        get_or_create_brand(session=writer, name="Brand W")
        writer.commit()
    second = data_version(session)
    assert second != first
    session.rollback()
    session.execute(text("UPDATE brand SET name = 'Brand V' WHERE name = 'Brand W'"))
    session.commit()  # the session's own connection
    assert data_version(session) not in (first, second)
    other.dispose()


def test_the_page_and_the_api_are_fresh_after_every_write(db_app):
    world = build_world(db_app)
    client = db_app.test_client()
    login(client, A_EMAIL)
    url = f"/campaigns/{world.campaign_id}"
    api = f"/api/v1{url}/shortlist"
    before = _counts(client.get(url).get_data(as_text=True))
    assert _counts(client.get(url).get_data(as_text=True)) == before  # from the cache
    items = client.get(api, headers=bearer(world.a_token)).get_json()["items"]
    offered = next(i["account_id"] for i in items if i["status"] == "offered")

    # A decision through the app: the next page and API answer show it.
    assert client.post(url + "/decide", data={"action": "drop",
                                              "account_id": offered}).status_code == 302
    after_drop = _counts(client.get(url).get_data(as_text=True))
    assert after_drop != before and "1 dropped" in after_drop
    items = client.get(api, headers=bearer(world.a_token)).get_json()["items"]
    assert {i["account_id"]: i["status"] for i in items}[offered] == "dropped"

    # A write from outside the app (a CLI command, another worker): seen as well.
    with Session(db_app.extensions["perks_engine"]) as other:
        other.execute(update(ShortlistEntry).where(
            ShortlistEntry.campaign_id == world.campaign_id,
            ShortlistEntry.account_id == offered).values(status="approved"))
        other.commit()
    assert "1 dropped" not in _counts(client.get(url).get_data(as_text=True))
    items = client.get(api, headers=bearer(world.a_token)).get_json()["items"]
    assert {i["account_id"]: i["status"] for i in items}[offered] == "approved"


def test_a_session_ended_elsewhere_is_not_served_from_the_cache(db_app):
    world = build_world(db_app)
    client = db_app.test_client()
    login(client, A_EMAIL)
    url = f"/campaigns/{world.campaign_id}"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # the user now comes from the cache
    with Session(db_app.extensions["perks_engine"]) as other:
        end_sessions(find_user(session=other, email=A_EMAIL))  # a password change elsewhere
        other.commit()
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_brand_gets_404_from_a_warm_cache_too(db_app):
    world = build_world(db_app)
    url = f"/api/v1/campaigns/{world.campaign_id}/shortlist"
    client = db_app.test_client()
    assert client.get(url, headers=bearer(world.a_token)).status_code == 200
    assert client.get(url, headers=bearer(world.b_token)).status_code == 404
    assert client.get(url + "?per_page=0", headers=bearer(world.b_token)).status_code == 404
    assert client.get(url + "?per_page=0", headers=bearer(world.a_token)).status_code == 400
