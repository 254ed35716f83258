"""Error answers (perks.web.errors): pages in the layout for people, JSON sentences for scripts,
no server internals; the logged-out front door; the favicon."""

import re

import pytest

from tests.conftest import AuthActions, gen_user, make_test_app

INTERNALS = re.compile(r"Traceback|werkzeug|/tmp/|\.py\b|RuntimeError|boom", re.IGNORECASE)


@pytest.fixture
def crashing_app(sqlite_url, tmp_path):
    """The app as production runs it (exceptions answered, not raised), with a view that fails."""
    app = make_test_app(sqlite_url, tmp_path, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom at /tmp/secret/file.py")

    yield app
    app.extensions["perks_engine"].dispose()


@pytest.mark.parametrize(("role", "method", "path", "status", "title"), [
    ("manager", "GET", "/no/such/page", 404, "Page not found"),
    ("manager", "GET", "/campaigns/999", 404, "Page not found"),
    ("reviewer", "GET", "/settings/users", 403, "Not allowed"),
    ("manager", "DELETE", "/campaigns/", 405, "Not allowed here"),
])
def test_error_pages_are_in_the_layout_with_navigation(app, role, method, path, status, title):
    gen_user(app, role=role)
    client = app.test_client()
    AuthActions(client).login()
    answer = client.open(path, method=method)
    page = answer.data.decode()
    assert answer.status_code == status and answer.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in page
    assert 'href="/campaigns/"' in page and "Log out" in page  # the app's header and links
    assert not INTERNALS.search(page)


def test_a_crash_is_one_sentence_in_the_layout(crashing_app):
    answer = crashing_app.test_client().get("/boom")
    page = answer.data.decode()
    assert answer.status_code == 500 and "<h1>Something went wrong</h1>" in page
    assert "It has been logged" in page and not INTERNALS.search(page)


def test_too_large_upload_is_a_page(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, MAX_CONTENT_LENGTH=100)
    page = app.test_client().post("/login", data={"email": "x" * 500})
    assert page.status_code == 413 and "<h1>Too large</h1>" in page.data.decode()
    assert "That upload is too large." in page.data.decode()
    app.extensions["perks_engine"].dispose()


def test_api_errors_are_json_sentences(client):
    answer = client.get("/api/v1/campaigns")
    body = answer.get_json()
    assert answer.status_code == 401 and body["error"] == "Unauthorized"
    assert "Authorization: Bearer" in body["message"] and "browser" not in body["message"]
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["message"].startswith("There is")


def test_logged_out_front_door_is_the_login_page_without_a_message(client):
    answer = client.get("/", follow_redirects=True)
    page = answer.data.decode()
    assert answer.request.path == "/login" and 'class="flash' not in page
    deep = client.get("/review/", follow_redirects=True).data.decode()
    assert "Log in to see that page." in deep and 'class="flash info"' in deep


def test_favicon_is_linked_and_served(client):
    page = client.get("/login").data.decode()
    href = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', page).group(1)
    with client.get(href) as icon:  # closes the static file's handle
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert icon.data.startswith(b"<svg")
