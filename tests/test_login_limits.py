"""What an outside probe found (issue 14), continued from tests/test_hardening.py: the
redirect after login stays on this site, and the login and removal limits hold per account and
per address, also under parallel requests."""

import threading

import pytest
from sqlalchemy import select
from sqlmodel import Session

from perks.auth import throttle
from perks.models import RemovalRequest
from tests.conftest import TEST_PASSWORD, gen_user, make_test_app
from tests.security_support import A_EMAIL


def _engine(app):
    return app.extensions["perks_engine"]


# --- 6. the redirect after login stays on this site --------------------------------------

@pytest.mark.parametrize(("target", "lands"), [
    ("/campaigns/", "/campaigns/"),
    ("/accounts?q=ana", "/accounts?q=ana"),
    ("/\t/evil.example", "/"),
    ("/%09/evil.example", "/%09/evil.example"),  # stays encoded: a path on this site
    ("//evil.example", "/"),
    ("/\\evil.example", "/"),
    ("/\r\n/x", "/"),
    ("/ /evil.example", "/"),
    ("https://evil.example/", "/"),
    ("/\x7f/evil.example", "/"),
])
def test_next_after_login_only_goes_to_this_site(app, target, lands):
    gen_user(app, email=A_EMAIL)
    answer = app.test_client().post("/login", query_string={"next": target},
                                    data={"email": A_EMAIL, "password": TEST_PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == lands


# --- 7. limits per account and per address that hold under parallel requests -------------

def _fail_login(app, email, address):
    return app.test_client().post("/login", data={"email": email, "password": "wrong guess"},
                                  environ_base={"REMOTE_ADDR": address}).status_code


def test_one_account_from_many_addresses_gets_the_account_limit(app):
    gen_user(app, email=A_EMAIL)
    codes = [_fail_login(app, A_EMAIL, f"198.51.100.{n}") for n in range(10) for _ in range(5)]
    assert codes.count(200) == throttle.LOGIN_ACCOUNT.limit and codes.count(429) == 40


def test_one_address_trying_many_emails_gets_the_address_limit(app):
    codes = [_fail_login(app, f"user{n}@brand-a.example", "203.0.113.9") for n in range(40)]
    assert codes.count(200) == throttle.LOGIN_ADDRESS.limit and codes.count(429) == 20


def _in_parallel(count, call):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_parallel_logins_do_not_pass_the_limit(db_app):
    gen_user(db_app, email=A_EMAIL)
    codes = _in_parallel(30, lambda _i: _fail_login(db_app, A_EMAIL, "192.0.2.50"))
    # Attempts on one key are serialised, so exactly the limit get through (the probe: 6 of 30).
    assert codes.count(200) == throttle.LOGIN_PAIR.limit and codes.count(429) == 25, codes


def test_removal_is_limited_per_handle_and_overall_across_addresses(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, RATE_LIMITS={"removal-all": 10})
    post = lambda handle, n: app.test_client().post(  # noqa: E731
        "/removal", data={"handle": handle},
        environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
    same = [post("ana", n) for n in range(40)]
    assert same.count(200) == throttle.REMOVAL_HANDLE.limit
    many = _in_parallel(20, lambda n: post(f"someone{n}", 100 + n))
    assert many.count(200) == 10 - throttle.REMOVAL_HANDLE.limit and set(many) == {200, 429}
    with Session(_engine(app)) as session:
        assert len(session.execute(select(RemovalRequest.id)).all()) == 10
    _engine(app).dispose()
