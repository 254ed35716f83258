"""Every account format perks reads, with exact counts, and the files it must refuse whole
(perks.importing.readers, shapes, records; `perks import` through the CLI runner)."""

import csv
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from perks.importing import ImportFormatError, import_file
from perks.importing import readers as readers_module
from perks.importing.shapes import parse_mapping
from perks.importing.store import default_rejects_path
from perks.models import Account, ImportRun

DATA = Path(__file__).parent / "data" / "import"


def accounts(session) -> dict[str, Account]:
    return {a.screen_name: a for a in session.exec(select(Account)).scalars()}


def count(session) -> int:
    return session.execute(select(func.count()).select_from(Account)).scalar_one()


@pytest.mark.parametrize(("fixture", "expected"), [
    ("v2_envelope.json", (3, 0)),  # two users in data, one in includes.users
    ("v2_tweets.jsonl", (2, 0)),  # a tweets envelope's author, then a bare v2 user
    ("twibot20.json", (3, 0)),  # profile wrappers, padded strings, "True " booleans
    ("twibot22_users.json", (2, 0)),
    ("kaggle_users.csv", (2, 1)),  # user_id, username, followers, listedcount ...; one NaN
])
def test_each_format_imports_with_exact_counts(session, tmp_path, fixture, expected):
    result = import_file(session, DATA / fixture, rejects_path=tmp_path / "rejects.csv")
    assert (result.imported, result.rejected) == expected
    assert count(session) == expected[0]


def test_v2_users_map_public_metrics_and_keep_a_missing_likes_count_unknown(session, tmp_path):
    import_file(session, DATA / "v2_envelope.json", rejects_path=tmp_path / "r.csv")
    stored = accounts(session)
    dev = stored["dev_example"]
    assert (dev.platform_id, dev.followers_count, dev.friends_count, dev.statuses_count,
            dev.listed_count) == ("2244994945", 507902, 1863, 3561, 1550)
    assert dev.verified is True and dev.created_at.year == 2013
    assert dev.unknown_counts == ["favourites_count"] and dev.favourites_count == 0
    assert stored["exampleco"].favourites_count == 6000
    assert stored["exampleco"].unknown_counts is None
    assert stored["jack_ex"].platform_id == "12"


def test_padded_wrapper_strings_are_trimmed_and_none_is_missing(session, tmp_path):
    import_file(session, DATA / "twibot20.json", rejects_path=tmp_path / "r.csv")
    stored = accounts(session)
    one = stored["padded_one"]
    assert (one.platform_id, one.name, one.description) == ("101", "Name 101", "bio of padded_one")
    assert one.location is None and one.url is None and one.lang is None
    assert one.geo_enabled is True and one.protected is False and one.followers_count == 1500
    assert stored["padded_two"].verified is True
    assert stored["padded_three"].platform_id == "103"  # the wrapper's ID: the profile has none


def test_csv_header_spellings(session, tmp_path):
    result = import_file(session, DATA / "kaggle_users.csv", rejects_path=tmp_path / "r.csv")
    stored = accounts(session)
    alpha = stored["kaggle_a"]
    assert (alpha.platform_id, alpha.followers_count, alpha.friends_count, alpha.statuses_count,
            alpha.favourites_count, alpha.listed_count) == ("1001", 250, 180, 4000, 12, 3)
    assert stored["kaggle_c"].verified is False
    rejects = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    assert [(r["line"], r["field"], r["reason"]) for r in rejects] == [
        ("3", "followers_count", "missing")]
    assert result.rejects_path == str(tmp_path / "r.csv")


def test_map_option_names_any_column(session, tmp_path):
    mapping = tuple(parse_mapping(["acct=id", "NICK=screen_name", "fans=followers_count",
                                   "follows=friends_count", "posts_total=statuses_count"]).items())
    result = import_file(session, DATA / "custom_columns.csv", mapping=mapping,
                         rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (2, 0)
    one = accounts(session)["custom_one"]
    assert (one.platform_id, one.followers_count, one.friends_count) == ("7001", 321, 12)
    assert one.unknown_counts == ["favourites_count", "listed_count"]


@pytest.mark.parametrize(("fixture", "says"), [
    ("wrapper_without_profile.json",
     "elements have keys ID, tweet, neighbor, domain, label: no user object found"),
    ("no_counts.csv", "followers_count: missing (2 records alike)"),
    ("custom_columns.csv", "no user object found"),  # without --map
])
def test_a_file_nothing_of_which_can_be_stored_fails_whole(session, tmp_path, fixture, says):
    with pytest.raises(ImportFormatError, match="none of its") as raised:
        import_file(session, DATA / fixture, rejects_path=tmp_path / "r.csv")
    assert says in str(raised.value)
    assert count(session) == 0
    run = session.exec(select(ImportRun)).scalars().one()
    assert run.status == "failed" and "none of its" in run.error


def make_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pool.csv", (DATA / "kaggle_users.csv").read_text())
    return path


@pytest.mark.parametrize(("make", "says"), [
    (lambda d: make_zip(d / "pool.zip"), ".zip files are not supported"),
    (lambda d: make_zip(d / "pool.csv"), "ZIP archive"),  # renamed: found by its first bytes
    (lambda d: d.joinpath("prog.json").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200))
     and d / "prog.json", "program binary"),
    (lambda d: d.joinpath("wide.csv").write_bytes(
        (DATA / "kaggle_users.csv").read_text().encode("utf-16-le")) and d / "wide.csv",
     "UTF-16 without a byte-order mark"),
    (lambda d: d.joinpath("empty.json").write_text("[]") and d / "empty.json",
     "holds no account records"),
])
def test_unsupported_files_are_refused(session, tmp_path, make, says):
    with pytest.raises(ImportFormatError, match=says):
        import_file(session, make(tmp_path), rejects_path=tmp_path / "r.csv")
    assert count(session) == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_read(session, tmp_path, encoding):
    path = tmp_path / "wide.csv"
    path.write_text((DATA / "kaggle_users.csv").read_text(), encoding=encoding)
    result = import_file(session, path, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (2, 1) and not result.warnings


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_json_is_streamed_across_buffer_boundaries(session, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(readers_module, "_CHUNK", chunk)
    records = json.loads((DATA / "twibot20.json").read_text())
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(records, indent=2))
    lines = [line for line, _raw in readers_module.read_records(readers_module.open_source(path))]
    text = path.read_text().splitlines()
    assert [text[line - 1].strip() for line in lines] == ["{"] * 3
    assert import_file(session, path, rejects_path=tmp_path / "r.csv").imported == 3


def test_a_json_record_over_the_limit_fails_the_file_in_bounded_memory(session, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(readers_module, "MAX_RECORD_CHARS", 1000)
    monkeypatch.setattr(readers_module, "_CHUNK", 100)
    path = tmp_path / "big.json"
    path.write_text('[{"id": "1", "screen_name": "a", "description": "' + "x" * 5000 + '"}]')
    with pytest.raises(ImportFormatError, match="line 1: a record longer than 1,000"):
        import_file(session, path, rejects_path=tmp_path / "r.csv")


def test_an_overlong_json_line_is_a_reject_and_the_rest_imports(session, tmp_path,
                                                                monkeypatch):
    monkeypatch.setattr(readers_module, "MAX_RECORD_CHARS", 1000)
    monkeypatch.setattr(readers_module, "_CHUNK", 100)
    good = {"id": "2", "screen_name": "fine", "followers_count": 1, "friends_count": 1,
            "statuses_count": 1}
    path = tmp_path / "pool.jsonl"
    path.write_text('{"id": "1", "description": "' + "x" * 5000 + '"}\n' + json.dumps(good))
    result = import_file(session, path, rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (1, 1)
    assert '1,line,"longer than 1,000 characters' in (tmp_path / "r.csv").read_text()


def test_rejects_go_to_the_instance_folder_when_the_input_folder_is_read_only(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != Path("/usr/bin"))
    assert default_rejects_path(Path("/usr/bin/ls"), tmp_path) == tmp_path / "ls.rejects.csv"
    assert default_rejects_path(tmp_path / "a.csv", Path("/x")) == tmp_path / "a.csv.rejects.csv"


# --- the command ----------------------------------------------------------------------------

def test_cli_folder_map_rejects_and_exit_codes(app, runner, tmp_path):
    folder = tmp_path / "pools"
    folder.mkdir()
    for name in ("v2_envelope.json", "twibot20.json", "kaggle_users.csv"):
        folder.joinpath(name).write_bytes((DATA / name).read_bytes())
    out = tmp_path / "rejects"
    out.mkdir()
    result = runner.invoke(args=["import", str(folder), "--rejects", str(out), "--json"])
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert {Path(f["source"]).name: f["imported"] for f in files} == {
        "kaggle_users.csv": 2, "twibot20.json": 3, "v2_envelope.json": 3}
    assert (out / "kaggle_users.csv.rejects.csv").exists()

    mapped = runner.invoke(args=["import", str(DATA / "custom_columns.csv"), "--rejects",
                                 str(out), "--map", "acct=id", "--map", "nick=screen_name",
                                 "--map", "fans=followers_count", "--map", "follows=friends_count",
                                 "--map", "posts_total=statuses_count"])
    assert mapped.exit_code == 0 and "2 imported" in mapped.output

    failed = runner.invoke(args=["import", str(DATA / "wrapper_without_profile.json"),
                                 "--rejects", str(out / "w.csv")])
    assert failed.exit_code == 1
    assert "no user object found" in failed.stderr and "nothing from this file" in failed.stderr

    bad_map = runner.invoke(args=["import", str(DATA / "custom_columns.csv"), "--map", "a=b"])
    assert bad_map.exit_code == 2 and "FIELD one of" in bad_map.output
    with Session(app.extensions["perks_engine"]) as session:
        assert count(session) == 10
