"""What an outside probe found (issue 14), one test or more per finding: forget and removal
across platform spellings, bookkeeping writes under a held lock, login timing, sessions that
end, the neutral add-user answer, the operator role, and what is left on disk after a forget.
The redirect check and the limits under parallel requests are in tests/test_login_limits.py;
the parameter fuzz is in tests/test_params.py."""

import json
import os
import re
import sqlite3
import stat
import statistics
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from perks.auth import users
from perks.campaigns import allocation
from perks.db import best_effort, make_engine
from perks.importing import import_file
from perks.models import Account, Campaign, RemovalRequest, ShortlistEntry
from perks.platforms import canonical_platform
from perks.privacy.removal import submit_removal
from tests.conftest import TEST_PASSWORD, AuthActions, gen_token, gen_user, make_test_app
from tests.security_support import A_EMAIL, B_EMAIL, bearer, build_world, login
from tests.test_privacy import _rows


def _engine(app):
    return app.extensions["perks_engine"]


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _accounts(app, handle="ana"):
    with Session(_engine(app)) as session:
        return session.execute(select(Account.platform, Account.screen_name).where(
            Account.screen_name.ilike(handle))).all()


# --- 1. a forgotten person stays forgotten, whatever the platform spelling ----------------

@pytest.mark.parametrize("spelling", ["x", "X", " Twitter ", "TWITTER", "x.com"])
def test_platform_spellings_are_one_platform(spelling):
    assert canonical_platform(spelling) == "twitter"
    assert canonical_platform(None) == canonical_platform("") == "twitter"
    assert canonical_platform(" Instagram ") == "instagram"


@pytest.mark.parametrize("wrap", [
    lambda r: {**r, "platform": "x"},
    lambda r: {**r, "platform": " Twitter ", "screen_name": "ANA"},
    lambda r: {**r, "platform": "X", "screen_name": "@Ana", "id": "99999"},  # new id too
    lambda r: {"created_at": "Tue Oct 11 12:00:00 +0000 2011", "text": "hi",
               "user": {**r, "platform": "x"}},  # a tweet wrapping the account
])
def test_forget_then_reimport_under_another_spelling_stores_nothing(db_app, tmp_path, wrap):
    row = _rows({"ana": {}})[0]
    runner = db_app.test_cli_runner()
    assert runner.invoke(args=["import", str(_write(tmp_path / "a.jsonl", [row]))]).exit_code == 0
    forgot = runner.invoke(args=["forget", "ana", "--json"])
    assert json.loads(forgot.output)["accounts"] == 1
    with Session(_engine(db_app)) as session:
        again = import_file(session, _write(tmp_path / "b.jsonl", [wrap(row)]))
    assert (again.imported, again.suppressed) == (0, 1)
    assert _accounts(db_app) == []


def test_removal_covers_every_platform_and_x_is_twitter(db_app, tmp_path):
    rows = [{**_rows({"ana": {}})[0], "platform": "x"},
            {**_rows({"ana": {}})[0], "platform": "instagram", "id": "777"},
            {**_rows({"ben": {}})[0], "platform": "instagram"}]
    with Session(_engine(db_app)) as session:
        import_file(session, _write(tmp_path / "pool.jsonl", rows))
    assert sorted(_accounts(db_app)) == [("instagram", "ana"), ("twitter", "ana")]
    public = db_app.test_client()
    assert public.post("/removal", data={"handle": "@Ana"}).status_code == 200
    assert public.post("/removal", data={"handle": "ben", "platform": "Instagram"}
                       ).status_code == 200
    client = app_login(db_app, "ops@perks.example", "operator")
    with Session(_engine(db_app)) as session:
        ids = session.execute(select(RemovalRequest.id).order_by(RemovalRequest.id)
                              ).scalars().all()
    answer = client.post(f"/privacy/requests/{ids[0]}/confirm", follow_redirects=True)
    assert "2 account(s) erased" in answer.get_data(as_text=True)
    answer = client.post(f"/privacy/requests/{ids[1]}/confirm", follow_redirects=True)
    assert "1 account(s) erased" in answer.get_data(as_text=True)
    assert _accounts(db_app) == [] and _accounts(db_app, "ben") == []
    # And neither comes back on any platform.
    with Session(_engine(db_app)) as session:
        again = import_file(session, _write(tmp_path / "again.jsonl", rows))
    assert (again.imported, again.suppressed) == (0, 3)


def test_optout_list_without_platform_covers_every_platform(db_app, tmp_path):
    rows = [{**_rows({"ana": {}})[0], "platform": "tiktok"}]
    with Session(_engine(db_app)) as session:
        import_file(session, _write(tmp_path / "pool.jsonl", rows))
    listing = tmp_path / "out.txt"
    listing.write_text("@ANA\n", encoding="utf-8")
    result = db_app.test_cli_runner().invoke(args=["optout", str(listing), "--json"])
    assert json.loads(result.output)["accounts_erased"] == 1
    assert _accounts(db_app) == []


# --- 2. bookkeeping writes never fail a request ------------------------------------------

def _hold_write_lock(url: str) -> sqlite3.Connection:
    """Another process's long import, as SQLite sees it: a write transaction left open."""
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO brand (name, created_at) VALUES ('import in progress', "
                   "'2026-01-01 00:00:00')")
    return holder


def test_api_answers_while_an_import_holds_the_write_lock(app, sqlite_url):
    gen_user(app, email=A_EMAIL)
    token = gen_token(app, email=A_EMAIL)
    holder = _hold_write_lock(sqlite_url)
    try:
        answer = app.test_client().get("/api/v1/campaigns", headers=bearer(token))
        assert answer.status_code == 200 and answer.get_json() == {"items": []}
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_best_effort_writes_give_up_instead_of_raising(app, sqlite_url):
    holder = _hold_write_lock(sqlite_url)
    try:
        assert best_effort(_engine(app), lambda c: c.exec_driver_sql(
            "DELETE FROM rate_limit_hit"), what="test") is False
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert best_effort(_engine(app), lambda c: c.exec_driver_sql(
        "DELETE FROM rate_limit_hit"), what="test") is True


# --- 3. an unknown email takes as long as a wrong password -------------------------------

def test_unknown_and_known_emails_take_the_same_time(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, PASSWORD_HASH_METHOD="scrypt")
    with Session(_engine(app)) as session:
        brand = users.get_or_create_brand(session=session, name="Brand A")
        users.create_user(session=session, email=A_EMAIL, password=TEST_PASSWORD, brand=brand,
                          hash_method="scrypt")
        session.commit()
        timings = {"unknown": [], "known": []}
        for _ in range(7):  # interleaved, so machine load falls on both alike
            for kind, email in (("unknown", "nobody@brand-a.example"), ("known", A_EMAIL)):
                started = time.perf_counter()
                assert users.authenticate(session=session, email=email, password="wrong guess",
                                          hash_method="scrypt") is None
                timings[kind].append(time.perf_counter() - started)
    ratio = statistics.median(timings["unknown"]) / statistics.median(timings["known"])
    assert 0.5 < ratio < 2, timings  # the probe measured 107 ms against 6 ms: a ratio of 18
    _engine(app).dispose()


# --- 4. logging out, a password change and deactivation end every session -----------------

def app_login(app, email, role="admin", remember=False):
    gen_user(app, email=email, brand="Brand A", role=role)
    client = app.test_client()
    data = {"email": email, "password": TEST_PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def _cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found else None


def test_logout_ends_the_session_even_when_its_cookie_is_replayed(app):
    client = app_login(app, A_EMAIL)
    stolen = _cookie(client, "session")
    assert client.get("/settings/users").status_code == 200
    other_device = app.test_client()
    assert other_device.post("/login", data={"email": A_EMAIL, "password": TEST_PASSWORD}
                             ).status_code == 302
    client.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/settings/users").status_code == 302  # to the login page
    assert other_device.get("/settings/users").status_code == 302  # every session of the user


def test_remember_tokens_rotate_and_die_on_logout(app):
    first = app_login(app, A_EMAIL, remember=True)
    token_one = _cookie(first, "remember_token")
    second = app.test_client()
    second.post("/login", data={"email": A_EMAIL, "password": TEST_PASSWORD, "remember": "y"})
    token_two = _cookie(second, "remember_token")
    assert token_one and token_two and token_one != token_two
    fresh = app.test_client()  # only the remember cookie: it logs in
    fresh.set_cookie("remember_token", token_two)
    assert fresh.get("/settings/users").status_code == 200
    second.post("/logout")
    for token in (token_one, token_two):
        replay = app.test_client()
        replay.set_cookie("remember_token", token)
        assert replay.get("/settings/users").status_code == 302


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_password_change_and_deactivation_end_sessions(app, change):
    client = app_login(app, A_EMAIL)
    with Session(_engine(app)) as session:
        user = users.find_user(session=session, email=A_EMAIL)
        if change == "password":
            users.set_password(session=session, user=user, password="another long passphrase",
                               hash_method="pbkdf2:sha256:1000")
        else:
            users.deactivate(session=session, user=user)
        session.commit()
    assert client.get("/").status_code == 302


def test_cli_password_change_and_deactivation_end_sessions(app):
    client = app_login(app, A_EMAIL)
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["user", "password", A_EMAIL], env={"PERKS_PASSWORD": "aaaaaaaaaa"})
    assert weak.exit_code != 0 and "too easy to guess" in weak.output
    assert client.get("/").status_code == 200  # a refused change ends nothing
    done = runner.invoke(args=["user", "password", A_EMAIL],
                         env={"PERKS_PASSWORD": "another long passphrase"})
    assert done.exit_code == 0, done.output
    assert client.get("/").status_code == 302
    again = app.test_client()
    assert AuthActions(again).login(password="another long passphrase").status_code == 302
    assert runner.invoke(args=["user", "deactivate", A_EMAIL]).exit_code == 0
    assert again.get("/").status_code == 302
    assert runner.invoke(args=["user", "deactivate", "nobody@x.example"]).exit_code != 0


def test_a_session_older_than_the_maximum_age_stops_loading(app):
    from perks.web.extensions import load_user

    gen_user(app, email=A_EMAIL)
    with app.test_request_context():
        now = int(time.time())
        assert load_user(f"1.0.{now}.abcd") is not None
        too_old = now - int(app.config["SESSION_MAX_AGE"].total_seconds()) - 60
        assert load_user(f"1.0.{too_old}.abcd") is None
        assert load_user("1") is None  # the id format before sessions carried a version
        assert load_user(f"1.1.{now}.abcd") is None  # another session version


# --- 10. adding a user does not tell whether the email is used by another brand ----------

def test_adding_another_brands_email_answers_like_a_new_one(app):
    gen_user(app, email=A_EMAIL, brand="Brand A", role="admin")
    gen_user(app, email=B_EMAIL, brand="Brand B", role="admin")
    client = app.test_client()
    login(client, B_EMAIL)
    answers = []
    for email in (A_EMAIL, "new@brand-b.example"):
        response = client.post("/settings/users", data={
            "email": email, "password": TEST_PASSWORD, "role": "reviewer"})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "already has an account" not in page
        answers.append(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', page)[0]
                       .replace(email, "EMAIL"))
    assert answers[0] == answers[1] and "is added as reviewer" in answers[0]
    with Session(_engine(app)) as session:
        a_user = users.find_user(session=session, email=A_EMAIL)
        assert a_user.brand_id == 1 and a_user.role == "admin"  # untouched


# --- 11. erasing a shared account is an operator's act -----------------------------------

def test_a_brand_admin_cannot_erase_a_shared_account_but_can_withdraw_it(app):
    world = build_world(app, b_role="admin")
    with Session(_engine(app)) as session:
        campaign = session.get(Campaign, world.campaign_id)
        entry = session.execute(select(ShortlistEntry.account_id).where(
            ShortlistEntry.campaign_id == campaign.id, ShortlistEntry.status == "offered")
        ).scalars().first()
    a_admin = app.test_client()
    login(a_admin, A_EMAIL)
    assert a_admin.post(f"/privacy/accounts/{entry}/forget",
                        data={"confirm": "on"}).status_code == 403
    b_admin = app.test_client()
    login(b_admin, B_EMAIL)
    assert b_admin.post(f"/privacy/accounts/{entry}/withdraw",
                        data={"confirm": "on"}).status_code == 302
    with Session(_engine(app)) as session:
        # Brand B has no campaign with it: Brand A's shortlist is untouched.
        assert session.get(Account, entry) is not None
        assert allocation.status_counts(session, session.get(Campaign, world.campaign_id)
                                        )["dropped"] == 0
    assert a_admin.post(f"/privacy/accounts/{entry}/withdraw",
                        data={"confirm": "on"}).status_code == 302
    with Session(_engine(app)) as session:
        status = session.execute(select(ShortlistEntry.status).where(
            ShortlistEntry.account_id == entry)).scalar_one()
        assert status == "dropped" and session.get(Account, entry) is not None
    result = app.test_cli_runner().invoke(args=["user", "create", "ops@perks.example",
                                                "--brand", "Operators", "--role", "operator"],
                                          env={"PERKS_PASSWORD": TEST_PASSWORD})
    assert result.exit_code == 0, result.output
    operator = app.test_client()
    login(operator, "ops@perks.example")
    assert operator.post(f"/privacy/accounts/{entry}/forget",
                         data={"confirm": "on"}).status_code == 302
    with Session(_engine(app)) as session:
        assert session.get(Account, entry) is None


# --- 9 and 12. what is left on disk -----------------------------------------------------

def test_forget_leaves_no_handle_or_bio_in_the_database_files(app, sqlite_url, tmp_path):
    row = {**_rows({"zqxhandle": {"description": "zqxbio marker text"}})[0]}
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import", str(_write(tmp_path / "a.jsonl", [row]))]).exit_code == 0
    assert runner.invoke(args=["forget", "zqxhandle"]).exit_code == 0
    database = sqlite_url.removeprefix("sqlite:///")
    for path in (database, database + "-wal"):
        if os.path.exists(path):
            data = Path(path).read_bytes()
            assert b"qxhandle" not in data and b"zqxbio" not in data, path
    # A later file with the forgotten handle in a bad row: counted, never quoted in rejects.
    bad = {**row, "followers_count": "many"}
    with Session(_engine(app)) as session:
        result = import_file(session, _write(tmp_path / "b.jsonl", [bad, {**bad, "id": "5"}]))
    assert (result.suppressed, result.rejected) == (2, 0) and result.rejects_path is None


def test_database_file_is_private_and_token_pages_are_not_cached(tmp_path, app, auth):
    path = tmp_path / "fresh" / "perks.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                assert stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode) == 0o600, suffix
    engine.dispose()
    auth.login()
    client = auth._client
    for page in ("/settings/tokens", "/", "/login"):
        assert client.get(page).headers["Cache-Control"] == "no-store", page
    response = client.get("/static/perks.css")
    response.close()
    assert response.headers.get("Cache-Control") != "no-store"


def test_removal_request_web_form_stores_nothing_in_clear(app):
    app.test_client().post("/removal", data={"handle": "zqxasker",
                                             "contact_email": "zqx@example.org"})
    with Session(_engine(app)) as session:
        row = session.execute(select(RemovalRequest)).scalar_one()
        assert "zqx" not in f"{row.handle} {row.contact_email} {row.handle_hash}"


def test_submit_removal_seals_with_the_given_secret(session):
    request = submit_removal(session=session, handle="zqxasker", client_ip=None,
                             secret="k" * 32)
    assert request.handle and "zqxasker" not in request.handle
