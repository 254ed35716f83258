"""Hardening that a user or an attacker would notice: headers on every response, cookie flags,
login throttling, the timing-safe login, the password policy and the upload size limit."""

import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from perks.auth import throttle, users
from perks.config import load_config
from perks.models import utcnow
from perks.paths import TEMPLATES_DIR
from perks.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import TEST_PASSWORD, AuthActions, gen_user, make_test_app
from tests.security_support import bearer, build_world


@pytest.mark.parametrize("path", ["/login", "/healthz", "/removal", "/nowhere",
                                  "/static/perks.css", "/api/v1/openapi.json", "/api/v1/campaigns",
                                  "/"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # the static file's handle
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in \
        CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_templates_have_no_inline_scripts_styles_or_handlers():
    pattern = re.compile(r"<script(?![^>]*\bsrc=)|<style|\son[a-z]+\s*=|\sstyle\s*=|javascript:",
                         re.IGNORECASE)
    offenders = [f"{path.name}: {m.group(0)}" for path in TEMPLATES_DIR.rglob("*.html")
                 for m in pattern.finditer(path.read_text())]
    assert offenders == []


def test_session_cookie_flags(client, auth, monkeypatch, tmp_path):
    cookie = auth.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    monkeypatch.setenv("PERKS_SECURE_COOKIES", "1")
    config = load_config(tmp_path, {"PERKS_ENV": "testing"})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


def test_login_is_throttled_per_email_and_address(app, client, auth):
    gen_user(app, email="bo@brand-a.example")
    for _ in range(throttle.LIMIT):
        assert auth.login(password="wrong password!").status_code == 200
    blocked = auth.login()  # the right password, too late
    assert blocked.status_code == 429 and "Too many failed logins" in blocked.get_data(True)
    assert client.get("/").status_code == 302
    assert auth.login(email="bo@brand-a.example").status_code == 302  # another email: fine
    elsewhere = app.test_client()
    answer = elsewhere.post("/login", data={"email": "ana@brand-a.example",
                                            "password": TEST_PASSWORD},
                            environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert answer.status_code == 302  # another address is not locked out by the attacker


def test_throttle_forgets_attempts_after_the_window(session):
    keys = throttle.login_keys("salt", "ana@x.example", "192.0.2.1")
    past = utcnow() - throttle.WINDOW - timedelta(minutes=1)
    for _ in range(throttle.LIMIT):
        assert throttle.attempt(session=session, keys=keys, now=past).allowed
    for _ in range(throttle.LIMIT):
        assert throttle.attempt(session=session, keys=keys).allowed
    refused = throttle.attempt(session=session, keys=keys)
    assert not refused.allowed and refused.refused_by is throttle.LOGIN_PAIR
    throttle.clear(session=session, key_hash=keys[0][1])
    session.commit()
    assert throttle.attempt(session=session, keys=keys).allowed
    assert not any("ana" in k or "192.0" in k for _, k in keys)  # only hashes are stored


def test_unknown_email_still_runs_a_password_check(app, monkeypatch):
    gen_user(app)
    calls = []
    real = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash",
                        lambda h, p: calls.append(h) or real(h, p))
    with Session(app.extensions["perks_engine"]) as session:
        assert users.authenticate(session=session, email="nobody@x.example",
                                  password="whatever12") is None
        assert users.authenticate(session=session, email="ana@brand-a.example",
                                  password="wrong password") is None
    assert len(calls) == 2 and calls[0] == users._dummy_hash("scrypt")


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "at least 10"),
    ("Password123", "too easy"),
    ("qwertyuiop", "too easy"),
    # What the outside probe got through: repeats, sequences, keyboard walks, l33t, blanks.
    ("aaaaaaaaaa", "too easy"),
    ("abcdefghij", "too easy"),
    ("qwertyuiop1", "too easy"),
    ("Passw0rd!!", "too easy"),
    (" " * 10, "only spaces"),
    ("\t \n" * 4, "only spaces"),
    ("ana@brand-a.example", "email"),
    ("my ana@brand-a.example!", "email"),
    ("ANA", "at least 10"),
])
def test_password_policy_refuses(password, problem):
    with pytest.raises(users.UserError, match=problem):
        users.check_password(password, email="ana@brand-a.example")


def test_password_policy_accepts_a_passphrase():
    users.check_password(TEST_PASSWORD, email="ana@brand-a.example")


def test_bodies_past_the_upload_limit_get_413(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, MAX_CONTENT_LENGTH=2000)
    world = build_world(app)
    client = app.test_client()
    assert client.post("/removal", data={"handle": "x" * 5000}).status_code == 413
    answer = client.post("/api/v1/campaigns", headers=bearer(world.a_token),
                         json={"name": "x" * 5000, "topics": ["coffee"]})
    assert answer.status_code == 413 and answer.get_json()["error"] == "Request Entity Too Large"
    assert AuthActions(client).login().status_code == 302  # small bodies still pass
    app.extensions["perks_engine"].dispose()
