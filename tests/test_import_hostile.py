"""Hostile input, property-tested: whatever the bytes, import_file raises nothing but
ImportFormatError, stores nothing when it raises, stores exactly what it reports otherwise,
and every rejected record is named by its line in the rejects file."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import Session

from perks.db import make_engine
from perks.importing import ImportFormatError, import_file
from perks.models import Account

SETTINGS = settings(max_examples=50, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
EXTENSIONS = (".csv", ".json", ".jsonl", ".txt")
FORMULAS = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,1)", "\t=1", "\r=1",
            '=HYPERLINK("http://x.example","y")')


@pytest.fixture
def store(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    yield engine, tmp_path
    engine.dispose()


def _count(engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Account)).scalar_one()


def check_import(store, data: bytes, suffix: str) -> None:
    engine, folder = store
    path = folder / f"hostile{suffix}"
    path.write_bytes(data)
    rejects = folder / "rejects.csv"
    before = _count(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            result = import_file(session, path, rejects_path=rejects)
        except ImportFormatError as error:
            assert str(error)
            assert _count(engine) == before  # nothing half-written
            return
    assert _count(engine) == before + result.imported
    lines = (list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
             if result.rejects_path else [])
    assert len(lines) == result.rejected
    for reject in lines:
        assert int(reject["line"]) >= 1 and reject["reason"], reject


# --- what hostile files are made of ---------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(FORMULAS), st.sampled_from(["NULL", "", " ", "1e999",
                                                                "2026-02-30", "０１２"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
COUNTS = {f"{name}_count": 1 for name in ("followers", "friends", "statuses", "favourites",
                                           "listed")}
FIELDS = ("id", "screen_name", "name", "description", "followers_count", "friends_count",
          "statuses_count", "created_at", "lang", "location", "topics", "birth_year",
          "consent", "person_id", "verified", "crawled_at")


@st.composite
def records(draw):
    record = {**(COUNTS if draw(st.booleans()) else {}), "id": draw(st.integers(1, 30)),
              "screen_name": draw(
        st.sampled_from(["ana", "ben", *FORMULAS]) | st.text(min_size=1, max_size=15))}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True)):
        record[name] = draw(values)
    return record


def _csv(rows: list[dict]) -> str:
    names = sorted({k for row in rows for k in row}) or ["id"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v
                         for k, v in row.items()})
    return out.getvalue()


def _render(rows: list[dict], kind: str) -> str:
    if kind == ".csv":
        return _csv(rows)
    if kind == ".json":
        return json.dumps(rows, default=str)
    return "\n".join(json.dumps(row, default=str) for row in rows)


# --- the properties -------------------------------------------------------------------------

@SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(EXTENSIONS))
def test_random_bytes(store, data, suffix):
    check_import(store, data, suffix)


@SETTINGS
@given(rows=st.lists(records(), max_size=8), kind=st.sampled_from((".csv", ".json", ".jsonl")),
       encoding=st.sampled_from(["utf-8", "utf-16", "utf-32", "cp1252", "latin-1", "shift_jis",
                                 "utf-8-sig"]))
def test_records_in_any_encoding_with_formulas_and_duplicate_ids(store, rows, kind, encoding):
    text = _render(rows, kind)
    check_import(store, text.encode(encoding, errors="replace"), kind)


@SETTINGS
@given(rows=st.lists(records(), min_size=1, max_size=6),
       kind=st.sampled_from((".csv", ".json", ".jsonl")), cut=st.floats(0, 1))
def test_truncated_files(store, rows, kind, cut):
    data = _render(rows, kind).encode()
    check_import(store, data[:int(len(data) * cut)], kind)


@SETTINGS
@given(size=st.sampled_from([1000, 70_000, 1_100_000]),
       field=st.sampled_from(["description", "name", "screen_name", "topics", "id"]),
       kind=st.sampled_from((".csv", ".json", ".jsonl")))
def test_huge_fields(store, size, field, kind):
    check_import(store, _render([{**COUNTS, "id": 1, "screen_name": "ana", field: "x" * size}],
                                kind).encode(), kind)


@SETTINGS
@given(depth=st.sampled_from([5, 500, 5000, 100_000]),
       where=st.sampled_from(["record", "field", "topics"]),
       kind=st.sampled_from((".csv", ".json", ".jsonl")))
def test_deep_json(store, depth, where, kind):
    deep = "[" * depth + "]" * depth
    if where == "record" and kind != ".csv":
        text = ("[" + deep + "]") if kind == ".json" else deep
    elif kind == ".csv":
        text = f'{",".join(COUNTS)},id,screen_name,{where}\n1,1,1,1,1,1,ana,"{deep}"\n'
    else:
        counts = json.dumps(COUNTS)[1:-1]
        row = f'{{{counts}, "id": 1, "screen_name": "ana", "{where}": {deep}}}'
        text = f"[{row}]" if kind == ".json" else row
    check_import(store, text.encode(), kind)


def test_duplicate_ids_store_one_account(store):
    engine, _ = store
    rows = [{**COUNTS, "id": 7, "screen_name": "ana", "followers_count": n} for n in (1, 2, 3)]
    check_import(store, _render(rows, ".jsonl").encode(), ".jsonl")
    assert _count(engine) == 1


def test_formula_cells_are_stored_as_text_not_run(store):
    engine, _ = store
    check_import(store, _csv([{**COUNTS, "id": 1, "screen_name": "ana",
                               "name": FORMULAS[0]}]).encode(), ".csv")
    with Session(engine) as session:
        assert session.execute(select(Account.name)).scalar_one() == FORMULAS[0]


def test_a_bad_line_is_named(store):
    _, folder = store
    check_import(store, b'{"id": 1, "screen_name": "ana"}\n{broken\n', ".jsonl")
    assert "2," in (folder / "rejects.csv").read_text()

