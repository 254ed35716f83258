"""Bad values an outside probe found, each a line-numbered reject (perks.importing.records),
and an import that fails half-way taken back out (perks.importing.store.undo_import)."""

import csv
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from perks.importing import ImportFormatError, import_file
from perks.importing import batches as batches_module
from perks.models import Account, AccountTopic, ImportRun, ImportUndo, Person

GOOD = {"id": "1", "screen_name": "good", "followers_count": 10, "friends_count": 5,
        "statuses_count": 100, "crawled_at": "2020-01-01T00:00:00"}


def rejects_of(path) -> list[tuple[str, str, str]]:
    return [(r["line"], r["field"], r["reason"])
            for r in csv.DictReader(path.read_text(encoding="utf-8").splitlines())]


def jsonl(tmp_path, *lines: str):
    path = tmp_path / "pool.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_integers_of_thousands_of_digits_are_rejects(session, tmp_path):
    huge = "9" * 5000
    path = jsonl(tmp_path, json.dumps(GOOD),
                 json.dumps({**GOOD, "id": "2"}).replace('"followers_count": 10',
                                                         f'"followers_count": {huge}'),
                 json.dumps({**GOOD, "id": 3}).replace('"id": 3', f'"id": {huge}'))
    result = import_file(session, path, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (1, 2)
    (line2, field2, reason2), (line3, field3, reason3) = rejects_of(tmp_path / "r.csv")
    assert (line2, field2, reason2) == ("2", "followers_count",
                                        "a number of 5,000 digits is no count or id")
    assert (line3, field3) == ("3", "id") and reason3.startswith("not an account id")


def test_huge_integer_inside_a_json_array_is_a_reject_too(session, tmp_path):
    path = tmp_path / "pool.json"
    path.write_text("[\n" + json.dumps(GOOD) + ",\n"
                    + json.dumps({**GOOD, "id": "2"}).replace('"friends_count": 5',
                                                              '"friends_count": ' + "7" * 4400)
                    + "\n]")
    result = import_file(session, path, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (1, 1)
    assert rejects_of(tmp_path / "r.csv")[0][:2] == ("3", "friends_count")


@pytest.mark.parametrize(("field", "value"), [
    ("id", "²"), ("id", "①"), ("followers_count", "²"), ("followers_count", "①"),
    ("friends_count", "١٢"), ("statuses_count", "１２"), ("listed_count", "³"),
])
def test_unicode_digits_in_ids_and_counts_are_rejects(session, tmp_path, field, value):
    path = jsonl(tmp_path, json.dumps(GOOD), json.dumps({**GOOD, "id": "2", field: value}))
    result = import_file(session, path, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (1, 1)
    line, named, _reason = rejects_of(tmp_path / "r.csv")[0]
    assert (line, named) == ("2", field)


def test_an_observation_more_than_a_day_ahead_is_a_reject_and_updates_keep_flowing(session,
                                                                                  tmp_path):
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()  # clocks differ: accepted
    path = jsonl(tmp_path, json.dumps({**GOOD, "crawled_at": future}),
                 json.dumps({**GOOD, "id": "2", "observed_at": soon}))
    result = import_file(session, path, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (1, 1)
    line, field, reason = rejects_of(tmp_path / "r.csv")[0]
    assert (line, field) == ("1", "crawled_at") and "in the future" in reason
    # The real, later observation (an opt-out here) is not lost behind a future one.
    later = jsonl(tmp_path, json.dumps({**GOOD, "consent": "opted_out",
                                        "crawled_at": datetime.now(UTC).isoformat()}))
    assert import_file(session, later, rejects_path=tmp_path / "r2.csv").imported == 1
    assert session.execute(select(Account.consent).where(
        Account.platform_id == "1")).scalar_one() == "opted_out"


# --- a failed file stores nothing, though batches were committed ----------------------------

def test_a_file_failing_after_committed_batches_is_taken_back_out(session, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(batches_module, "BATCH_SIZE", 2)
    first = [{**GOOD, "id": str(i), "screen_name": f"u{i}", "topics": ["coffee"],
              "person_id": "p-old"} for i in range(3)]
    path = tmp_path / "first.json"
    path.write_text(json.dumps(first))
    import_file(session, path, rejects_path=tmp_path / "r.csv")
    before = {a.platform_id: (a.followers_count, a.name, a.observed_at, a.import_run_id)
              for a in session.exec(select(Account)).scalars()}
    topics_before = session.execute(select(func.count()).select_from(AccountTopic)).scalar_one()

    newer = [{**GOOD, "id": str(i), "screen_name": f"u{i}", "followers_count": 999,
              "name": "changed", "topics": ["running"], "person_id": f"p-new-{i}",
              "crawled_at": "2021-01-01T00:00:00"} for i in range(6)]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(newer)[:-5])  # three batches committed, then a truncated end
    with pytest.raises(ImportFormatError, match="the file ends early"):
        import_file(session, broken, rejects_path=tmp_path / "r.csv")
    session.expire_all()
    after = {a.platform_id: (a.followers_count, a.name, a.observed_at, a.import_run_id)
             for a in session.exec(select(Account)).scalars()}
    assert after == before
    assert session.execute(select(func.count()).select_from(AccountTopic)).scalar_one() \
        == topics_before
    assert set(session.execute(select(Person.key)).scalars()) == {"p-old"}
    assert session.execute(select(func.count()).select_from(ImportUndo)).scalar_one() == 0
    assert [r.status for r in session.exec(select(ImportRun).order_by(ImportRun.id)).scalars()] \
        == ["done", "failed"]


# --- an import does not stall other writers (issue 14.2) ------------------------------------

def test_another_connection_can_write_while_a_big_import_runs(sqlite_url, tmp_path):
    from sqlmodel import Session

    from perks.db import make_engine

    rows = [{**GOOD, "id": str(i), "screen_name": f"u{i}", "description": "bio " * 20}
            for i in range(30_000)]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    engine = make_engine(sqlite_url)
    started, done, outcome = threading.Event(), threading.Event(), {}
    seen = [0]

    def progress(n):
        seen[0] += n
        if seen[0] == 5000:
            started.set()

    def run():
        try:
            with Session(engine, expire_on_commit=False) as session:
                outcome["result"] = import_file(session, path, progress=progress,
                                                rejects_path=tmp_path / "r.csv")
        finally:
            started.set()
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    started.wait(120)
    writes = 0
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=2)
    try:
        while not done.is_set() and writes < 20:
            with other:  # each write must get the lock within the 2 s busy timeout
                other.execute("INSERT INTO brand (name, created_at) VALUES (?, ?)",
                              (f"writer {writes}", datetime.now(UTC).isoformat()))
            writes += 1
            assert other.execute("SELECT count(*) FROM account").fetchone()[0] >= 0
    finally:
        other.close()
        worker.join()
        engine.dispose()
    assert writes >= 1
    assert outcome["result"].imported == 30_000
