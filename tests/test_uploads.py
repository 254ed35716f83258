"""Uploading a pool through the web app (perks.web.uploads, perks.importing.uploads): the form's
checks, the import run outside the request, its progress and rejects, brand scoping."""

import io
import time

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from perks.importing import uploads as runner
from perks.models import Account, AccountList, AccountListMember, ImportRun
from tests.conftest import TEST_PASSWORD, AuthActions, gen_user, make_test_app
from tests.test_import_store import HEADER, gen_line

B_EMAIL = "bea@brand-b.example"


def pool_csv(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def good_rows(n: int, start: int = 1) -> list[str]:
    return [gen_line(i, f"user{i}") for i in range(start, start + n)]


def post_upload(client, data: bytes, *, filename="pool.csv", **fields):
    form = {"list_name": "spring creators", "mapping": "", "observed_at": "", **fields,
            "file": (io.BytesIO(data), filename)}
    return client.post("/uploads/", data=form, content_type="multipart/form-data")


def count(app, model=Account) -> int:
    with Session(app.extensions["perks_engine"]) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def runs(app) -> list[ImportRun]:
    with Session(app.extensions["perks_engine"]) as session:
        return list(session.exec(select(ImportRun).order_by(ImportRun.id)).scalars().all())


@pytest.fixture
def inline(app, monkeypatch):
    """Run the upload's import in this process when the view starts it (the separate process
    is tested once, below, and in the browser test)."""
    def start(run_id, *, database_url, instance_path, environment):
        with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
            runner.run_upload(session, run_id=run_id, folder=runner.upload_folder(instance_path))

    monkeypatch.setattr("perks.web.uploads.start_runner", start)


@pytest.fixture
def manager(app, client):
    gen_user(app, role="manager")
    AuthActions(client).login()
    return client


@pytest.mark.parametrize(("filename", "expected"), [
    ("pool.xlsx", "perks reads .csv, .json, .jsonl, .ndjson files"),
    ("pool", "perks reads .csv"),
    ("pool.csv.exe", "perks reads .csv"),
])
def test_a_file_of_another_kind_is_refused_by_name(app, manager, filename, expected):
    response = post_upload(manager, pool_csv(*good_rows(2)), filename=filename)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert runs(app) == [] and count(app) == 0
    assert not (app.instance_path and list((runner.upload_folder(app.instance_path)).iterdir()))


def test_no_file_is_a_clear_error(app, manager):
    response = manager.post("/uploads/", data={"list_name": "x"},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"mapping": "listedcount=listed_count\nfoo=nofield"},
     "&#39;foo=nofield&#39;: expected SOURCE=FIELD"),
    ({"mapping": "no equals sign"}, "expected SOURCE=FIELD"),
    ({"observed_at": "yesterday-ish"}, "Observed at:"),
    ({"list_name": ""}, "List: This field is required."),
])
def test_bad_settings_are_refused_naming_the_field(app, manager, fields, expected):
    response = post_upload(manager, pool_csv(*good_rows(2)), **fields)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert runs(app) == [] and count(app) == 0


def test_a_file_over_the_limit_gets_a_413_page_that_says_the_limit(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path, MAX_CONTENT_LENGTH=2 << 20)
    gen_user(app, role="manager")
    client = app.test_client()
    AuthActions(client).login()
    # A raw body: the test client's own multipart encoder would spool 3 MB to a temporary file.
    response = client.post("/uploads/", data=b"x" * (3 << 20),
                           content_type="multipart/form-data; boundary=perks")
    body = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "up to 2.0 MB" in body and "PERKS_MAX_UPLOAD_BYTES" in body
    assert runs(app) == []
    app.extensions["perks_engine"].dispose()


def test_a_reviewer_may_not_upload(app, client):
    gen_user(app, email="rita@brand-a.example", role="reviewer")
    AuthActions(client).login(email="rita@brand-a.example")
    assert client.get("/uploads/").status_code == 403
    assert post_upload(client, pool_csv(*good_rows(1))).status_code == 403
    assert runs(app) == []


def test_an_upload_is_imported_with_its_counts_rejects_and_mapping(app, manager, inline):
    rows = [*good_rows(5), "6,bad,Bad,many,1,1,1,1,1,,", gen_line(7, "user7", crawled="=1+1")]
    header = HEADER.replace("listed_count", "listedcount_x")
    data = ("\n".join((header, *rows)) + "\n").encode()
    response = post_upload(manager, data, mapping="listedcount_x=listed_count",
                           observed_at="2026-11-30T12:00:00Z")
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    status = manager.get(f"/uploads/{run_id}/status").get_json()
    assert status["state"] == "done" and status["finished"]
    assert (status["rows_read"], status["imported"], status["rejected"]) == (7, 5, 2)
    page = manager.get(f"/uploads/{run_id}").get_data(as_text=True)
    assert "Download the rejected rows" in page and "data-upload-status" not in page
    with Session(app.extensions["perks_engine"]) as session:
        account = session.exec(select(Account).where(
            Account.screen_name == "user1")).scalars().one()
        assert account.listed_count == 3 and account.source_file == "pool.csv"
        assert account.shared is False  # only in Brand A's list
        members = session.execute(select(func.count()).select_from(AccountListMember).join(
            AccountList).where(AccountList.name == "spring creators",
                               AccountList.brand_id == 1)).scalar_one()
        assert members == 5
        run = session.get(ImportRun, run_id)
        assert run.brand_id == 1 and run.list_name == "spring creators"
        assert run.mapping == ["listedcount_x=listed_count"]
    rejects = manager.get(f"/uploads/{run_id}/rejects.csv")
    assert rejects.status_code == 200 and rejects.mimetype == "text/csv"
    assert 'filename="pool-rejects.csv"' in rejects.headers["Content-Disposition"]
    lines = rejects.get_data(as_text=True).splitlines()
    assert lines[0] == "line,field,reason" and lines[1].startswith("7,followers_count,")
    assert len(lines) == 3
    # The file itself is gone once imported: its rows are in the store or refused.
    folder = runner.upload_folder(app.instance_path)
    assert not (folder / f"{run_id}.csv").exists()


def test_a_file_none_of_whose_rows_can_be_stored_stores_nothing(app, manager, inline):
    response = post_upload(manager, pool_csv("1,a,A,many,1,1,1,1,1,,", "2,b,B,lots,1,1,1,1,1,,"))
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    status = manager.get(f"/uploads/{run_id}/status").get_json()
    assert status["state"] == "failed" and status["stored"] == 0 and status["rejected"] == 2
    assert "none of its 2 records could be stored" in status["error"]
    assert str(app.instance_path) not in status["error"]
    page = manager.get(f"/uploads/{run_id}").get_data(as_text=True)
    assert "Nothing from this file was stored." in page and "pool.csv: none of its 2" in page
    assert manager.get(f"/uploads/{run_id}/rejects.csv").status_code == 200
    assert count(app) == 0


def test_a_file_of_unknown_shape_fails_whole_without_server_paths(app, manager, inline):
    response = post_upload(manager, b"\x7fELF\x02\x01\x01" + bytes(200), filename="pool.json")
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    status = manager.get(f"/uploads/{run_id}/status").get_json()
    assert status["state"] == "failed" and status["error"].startswith("pool.json")
    assert str(app.instance_path) not in status["error"]
    assert manager.get(f"/uploads/{run_id}/rejects.csv").status_code == 404
    assert count(app) == 0


def test_one_upload_at_a_time_per_brand(app, manager, monkeypatch):
    monkeypatch.setattr("perks.web.uploads.start_runner", lambda *a, **k: None)  # stays queued
    assert post_upload(manager, pool_csv(*good_rows(2))).status_code == 302
    response = post_upload(manager, pool_csv(*good_rows(2)))
    assert response.status_code == 400
    assert "upload of pool.csv is still running" in response.get_data(as_text=True)
    assert [run.status for run in runs(app)] == ["queued"]


def test_another_brands_upload_is_a_404(app, manager, inline):
    response = post_upload(manager, pool_csv(*good_rows(2), "3,bad,B,many,1,1,1,1,1,,"))
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    other = app.test_client()
    gen_user(app, email=B_EMAIL, brand="Brand B", role="admin")
    other.post("/login", data={"email": B_EMAIL, "password": TEST_PASSWORD})
    for path in ("", "/status", "/rejects.csv"):
        assert other.get(f"/uploads/{run_id}{path}").status_code == 404, path
        assert manager.get(f"/uploads/{run_id}{path}").status_code == 200, path
    assert "pool.csv" not in other.get("/uploads/").get_data(as_text=True)
    # Nor the accounts, which are only in Brand A's list.
    assert "0 accounts matching" not in manager.get("/accounts?q=user1").get_data(as_text=True)
    assert "0 accounts matching" in other.get("/accounts?q=user1").get_data(as_text=True)


def test_the_upload_runs_in_its_own_process(app, manager):
    """The real runner: `perks import-upload RUN_ID` started by the view, the page polled."""
    response = post_upload(manager, pool_csv(*good_rows(300)))
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    while not (status := manager.get(f"/uploads/{run_id}/status").get_json())["finished"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    assert (status["state"], status["imported"], status["rejected"]) == ("done", 300, 0), status
    assert count(app) == 300
