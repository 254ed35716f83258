"""Login, the login wall, CSRF and the account pages (perks.web)."""

import re

import pytest
from sqlmodel import Session

from perks.importing import import_records
from tests.conftest import TEST_PASSWORD, gen_user, make_test_app

PUBLIC_ENDPOINTS = {"auth.login", "pages.healthz", "static", "privacy.removal", "api.openapi"}


def gen_accounts(app, *handles):
    rows = [{"id": i, "screen_name": h, "name": h.title(), "followers_count": 10 * i,
             "friends_count": 1, "statuses_count": 1, "favourites_count": 1, "listed_count": 1}
            for i, h in enumerate(handles, start=1)]
    with Session(app.extensions["perks_engine"]) as session:
        import_records(session, enumerate(rows, 1), source_name="test")


def _example_url(rule):
    return re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)


def test_every_route_but_login_and_health_needs_login(app, client):
    # Walks the URL map, so a route added later is covered without editing this test.
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(_example_url(rule), method=method)
            if rule.endpoint.startswith("api."):  # scripts get a status, not a login page
                assert response.status_code == 401, (rule.rule, method)
                continue
            assert response.status_code in (302, 401), (rule.rule, method)
            assert "/login" in response.headers["Location"], (rule.rule, method)
            checked += 1
    assert checked >= 4


def test_health_answers_without_login(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_login_page_and_successful_login(client, auth):
    assert b"Log in" in client.get("/login").data
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert b"Brand A" in page.data and b"No campaigns yet" in page.data


@pytest.mark.parametrize(("email", "password"), [
    ("ana@brand-a.example", "wrong password!"),
    ("nobody@brand-a.example", TEST_PASSWORD),
    ("", ""),
])
def test_bad_logins_are_refused_with_one_message(client, auth, email, password):
    response = auth.login(email, password)
    assert response.status_code == 200
    assert b"Log in" in response.data
    assert client.get("/").status_code == 302


def test_login_redirects_only_to_local_pages(client, auth):
    response = client.post("/login?next=https://evil.example/", data={
        "email": "ana@brand-a.example", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/"
    response = client.post("/login?next=/accounts", data={
        "email": "ana@brand-a.example", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/accounts"


def test_logout_ends_the_session(client, auth):
    auth.login()
    assert auth.logout().status_code == 302
    assert client.get("/accounts").status_code == 302


def test_post_without_csrf_token_is_refused(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, WTF_CSRF_ENABLED=True)
    gen_user(app)
    client = app.test_client()
    response = client.post("/login", data={"email": "ana@brand-a.example",
                                           "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "ana@brand-a.example",
                                           "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/logout").status_code == 400  # logged in, still no token: refused
    app.extensions["perks_engine"].dispose()


def test_accounts_browser_paginates_and_searches(app, client, auth):
    gen_accounts(app, *[f"user{i:03d}" for i in range(1, 121)], "coffee_ana")
    auth.login()
    first = client.get("/accounts").data.decode()
    assert "121 accounts" in first and "page 1 of 3" in first
    assert "@user120" in first  # largest audience first
    assert "@user120" not in client.get("/accounts?page=2").data.decode()
    found = client.get("/accounts?q=@COFFEE").data.decode()
    assert "1 accounts" in found and "@coffee_ana" in found
    assert "No accounts" in client.get("/accounts?q=100%25").data.decode()


def test_account_page_shows_the_profile(app, client, auth):
    gen_accounts(app, "ana")
    auth.login()
    page = client.get("/accounts/1").data.decode()
    assert "@ana" in page and "Not scored yet" in page
    assert client.get("/accounts/999").status_code == 404
