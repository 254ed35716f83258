"""CSRF, enumerated: with protection on, every state-changing route of the web blueprints
refuses a request without the token (400), logged in or not. The API takes bearer tokens only,
so it is exempt, and a logged-in browser's cookie gets nothing there (401)."""

import re

import pytest

from tests.conftest import TEST_PASSWORD, make_test_app
from tests.security_support import A_EMAIL, bearer, build_world

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def csrf_app(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    app.extensions["perks_engine"].dispose()


def _login_with_token(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": A_EMAIL, "password": TEST_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def _url(rule, world) -> str:
    values = {"campaign_id": world.campaign_id, "token_id": world.token_id,
              "account_id": world.account_id, "request_id": world.request_id,
              "handle": world.handle}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


@pytest.mark.parametrize("logged_in", [False, True])
def test_every_web_write_without_a_csrf_token_is_refused(csrf_app, logged_in):
    world = build_world(csrf_app)
    client = csrf_app.test_client()
    if logged_in:
        _login_with_token(client)
    checked = []
    for rule in csrf_app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            continue
        for method in sorted(rule.methods & WRITES):
            response = client.open(_url(rule, world), method=method,
                                   data={"account_id": world.account_id, "confirm": "1"})
            assert response.status_code == 400, (method, rule.rule, response.status_code)
            assert "CSRF" in response.get_data(as_text=True), (method, rule.rule)
            checked.append(rule.endpoint)
    assert {"auth.login", "auth.logout", "campaigns.new", "campaigns.decide", "review.decide",
            "privacy.removal", "privacy.forget", "settings.users", "settings.tokens",
            "settings.revoke"} <= set(checked)
    if logged_in:
        assert client.get("/").status_code == 200  # still logged in: nothing was done


def test_the_api_is_exempt_but_refuses_the_cookie_session(csrf_app):
    world = build_world(csrf_app)
    client = csrf_app.test_client()
    _login_with_token(client)
    body = {"name": "By cookie", "topics": ["coffee"]}
    assert client.post("/api/v1/campaigns", json=body).status_code == 401
    assert client.get("/api/v1/campaigns").status_code == 401
    writes = [r for r in csrf_app.url_map.iter_rules()
              if r.endpoint.startswith("api.") and r.methods & WRITES]
    assert writes
    for rule in writes:  # no bearer: refused as unauthenticated, cookie or not
        assert client.post(_url(rule, world), json={}).status_code == 401, rule.rule
    made = client.post("/api/v1/campaigns", json=body, headers=bearer(world.a_token))
    assert made.status_code == 201, made.get_json()
