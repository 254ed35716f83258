"""Importing files into the account store, on SQLite and PostgreSQL (perks.importing.store)."""

import csv
import json

import pytest
from sqlalchemy import func, select

from perks.importing import ImportFormatError, import_file
from perks.models import Account, AccountTopic, ImportRun, Person

HEADER = ("id,screen_name,name,followers_count,friends_count,statuses_count,favourites_count,"
          "listed_count,verified,created_at,crawled_at")


def gen_csv(tmp_path, *rows, name="pool.csv", header=HEADER, encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join((header, *rows)) + "\n", encoding=encoding)
    return path


def gen_line(account_id, handle, followers=100, crawled="2015-05-02 06:41:46", name="Ana"):
    return (f'{account_id},{handle},"{name}",{followers},50,1000,20,3,1,'
            f'Tue Oct 11 12:00:00 +0000 2011,{crawled}')


def count(session, model=Account):
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_csv_rows_are_imported_with_counts_and_types(session, tmp_path):
    path = gen_csv(tmp_path, gen_line(1, "ana"), gen_line(2, "bo", followers=5))
    result = import_file(session, path)
    assert (result.imported, result.updated, result.rejected) == (2, 0, 0)
    ana = session.exec(select(Account).where(Account.screen_name == "ana")).scalars().one()
    assert ana.platform_id == "1" and ana.followers_count == 100 and ana.verified is True
    assert ana.observed_at.year == 2015 and ana.source_file == str(path)
    assert result.rejects_path is None and not (tmp_path / "pool.csv.rejects.csv").exists()


def test_reimport_updates_and_keeps_the_newest_observation(session, tmp_path):
    import_file(session, gen_csv(tmp_path, gen_line(1, "ana", followers=100), name="a.csv"))
    newer = gen_csv(tmp_path, gen_line(1, "ana", followers=900, crawled="2016-01-01"),
                    name="b.csv")
    assert import_file(session, newer).updated == 1
    older = gen_csv(tmp_path, gen_line(1, "ana", followers=5, crawled="2014-01-01"),
                    name="c.csv")
    result = import_file(session, older)
    assert (result.imported, result.updated, result.unchanged) == (0, 0, 1)
    session.expire_all()
    stored = session.exec(select(Account)).scalars().one()
    assert stored.followers_count == 900 and stored.observed_at.year == 2016


def test_bad_rows_go_to_rejects_with_line_field_and_reason(session, tmp_path):
    path = gen_csv(tmp_path, gen_line(1, "ana"), gen_line(2, "bo", followers=-1),
                   '3,"two words",x,1,1,1,1,1,,,', gen_line(4, "cy"), "5,short")
    result = import_file(session, path)
    assert (result.imported, result.rejected) == (2, 3)
    with open(result.rejects_path, newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["line"], r["field"]) for r in rejects] == [
        ("3", "followers_count"), ("4", "screen_name"), ("6", "line")]
    assert "outside" in rejects[0]["reason"]
    assert count(session) == 2


def test_multiline_quoted_bio_keeps_line_numbers(session, tmp_path):
    header = "id,screen_name,description,followers_count,friends_count,statuses_count," \
             "favourites_count,listed_count"
    path = gen_csv(tmp_path, '1,ana,"line one\nline two",1,1,1,1,1', "2,bo,,x,1,1,1,1",
                   header=header)
    result = import_file(session, path)
    with open(result.rejects_path, newline="") as handle:
        assert next(csv.DictReader(handle))["line"] == "4"


@pytest.mark.parametrize("broken", [
    '[{"id": 1, "screen_name": "ana", "followers_count": 1, "friends_count": 1, '
    '"statuses_count": 1, "favourites_count": 1, "listed_count": 1},\n{"id": 2, "screen_na',
    '{"not": "an array"}\n',
    "[1, 2,, 3]",
])
def test_unparseable_json_stores_nothing(session, tmp_path, broken):
    path = tmp_path / "broken.json"
    path.write_text(broken)
    with pytest.raises(ImportFormatError):
        import_file(session, path)
    assert count(session) == 0
    assert session.exec(select(ImportRun)).scalars().one().status == "failed"


def test_csv_broken_half_way_leaves_the_database_unchanged(session, tmp_path):
    import_file(session, gen_csv(tmp_path, gen_line(1, "ana", followers=100), name="a.csv"))
    good = [gen_line(i, f"user{i}") for i in range(2, 3000)]
    # A quote left open (a truncated file) after more than one batch of good rows.
    path = gen_csv(tmp_path, gen_line(1, "ana", followers=7, crawled="2016-01-01"), *good,
                   '9999,cut,"the file ends inside this quoted fie', name="b.csv")
    with pytest.raises(ImportFormatError, match="line"):
        import_file(session, path)
    session.expire_all()
    assert count(session) == 1
    assert session.exec(select(Account)).scalars().one().followers_count == 100


def test_json_lines_bad_line_is_a_reject_not_a_failure(session, tmp_path):
    good = {"id": 1, "screen_name": "ana", "followers_count": 1, "friends_count": 1,
            "statuses_count": 1, "favourites_count": 1, "listed_count": 1}
    path = tmp_path / "pool.jsonl"
    path.write_text(json.dumps(good) + "\n{broken\n" + json.dumps(good | {"id": 2}) + "\n[]\n")
    result = import_file(session, path)
    assert (result.imported, result.rejected) == (2, 2)


def test_latin1_file_is_read_with_a_warning(session, tmp_path):
    path = gen_csv(tmp_path, gen_line(1, "ana", name="José Müller"), encoding="latin-1")
    result = import_file(session, path)
    assert result.imported == 1 and "Latin-1" in result.warnings[0]
    assert session.exec(select(Account.name)).scalars().one() == "José Müller"


def test_tweet_objects_topics_and_people(session, tmp_path):
    user = {"id": 5, "screen_name": "cy", "followers_count": 1, "friends_count": 1,
            "statuses_count": 1, "favourites_count": 1, "listed_count": 1,
            "verified": False, "topics": {"coffee": 0.9}, "person_id": "person-1"}
    elements = [{"created_at": "Fri May 17 13:00:28 +0000 2019", "user": user},
                {"created_at": "Fri May 17 13:00:28 +0000 2019",
                 "user": user | {"id": 6, "screen_name": "cy2", "topics": ["nope"]}},
                {"created_at": "Fri May 17 13:00:28 +0000 2019",
                 "user": user | {"id": 7, "screen_name": "cy3", "topics": None}}]
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps(elements, indent=1))
    result = import_file(session, path)
    assert (result.imported, result.rejected) == (2, 1)
    topic = session.exec(select(AccountTopic)).scalars().one()
    assert topic.weight == 0.9 and topic.source == "imported"
    assert count(session, Person) == 1
    assert len(set(session.exec(select(Account.person_id)).scalars())) == 1
