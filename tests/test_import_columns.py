"""The column-wise fast path gives exactly what normalize_record gives, record or reject."""

import random
from datetime import UTC, datetime

import pytest

from perks.demo import demo_observed_at
from perks.demo.pool import generate_accounts
from perks.importing.columns import normalize_batch
from perks.importing.records import RowError, normalize_record
from perks.topics import load_taxonomy

OBSERVED = demo_observed_at()
NOW = datetime(2026, 12, 2, tzinfo=UTC)
# Values each field may meet in the wild: missing markers, numbers as text, out of range,
# wrong types, NUL bytes, times in both layouts, topics in every accepted spelling.
ODD_VALUES = [
    None, "", " ", "null", "NaN", "N/A", "None", "12", " 12 ", "1e3", "-1", -1, 0, 1, 2.0, True,
    False, 1.5, float("nan"), float("inf"), 10**13, 2**70, "x" * 6000, "a\x00b", "yes", "no",
    "T", "2020-01-01T00:00:00Z", "Tue Oct 11 12:00:00 +0000 2011", "2099-01-01",
    datetime(2020, 1, 1), datetime(2030, 1, 1, tzinfo=UTC), [], {}, ["fitness"],
    {"fitness": 0.5}, "fitness:0.3;art", "@handle", "han dle", "opted-in", "OPTED_OUT",
    "bogus", "١٢", "  x  ", "X", " Twitter ",
]
FIELDS = [
    "id", "id_str", "screen_name", "name", "description", "location", "lang", "url",
    "post_text", "created_at", "followers_count", "friends_count", "statuses_count",
    "favourites_count", "listed_count", "verified", "protected", "geo_enabled",
    "profile_use_background_image", "platform", "observed_at", "crawled_at", "updated",
    "timestamp", "topics", "person_id", "birth_year", "is_minor", "consent", "external_score",
    "retweet_share", "posts_per_day", "distinct_sources", "user", "profile", "public_metrics",
    "followers", "username",
]


def _accounts(n: int) -> list[dict]:
    taxonomy = [(t.slug, t.keywords) for t in load_taxonomy()]
    return list(generate_accounts(n, seed=3, topics=taxonomy, observed_at=OBSERVED))


def _row_wise(raw):
    try:
        return normalize_record(raw, default_observed_at=OBSERVED, now=NOW)
    except RowError as error:
        return error


def _assert_same(raws):
    batch = normalize_batch(raws, default_observed_at=OBSERVED, now=NOW)
    assert len(batch) == len(raws)
    for raw, fast, slow in zip(raws, batch, map(_row_wise, raws), strict=True):
        if isinstance(slow, RowError):
            assert isinstance(fast, RowError), raw
            assert (fast.field, fast.reason) == (slow.field, slow.reason), raw
        else:
            assert fast == slow, raw
            assert list(fast) == list(slow)  # the same key order: the insert's column order


def test_clean_demo_records_come_out_as_normalize_record_makes_them():
    _assert_same(_accounts(500))


def test_records_as_csv_text_come_out_the_same():
    rows = [{k: "" if v is None else str(v) for k, v in raw.items()}
            for raw in _accounts(300)]
    _assert_same(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_odd_values_give_the_same_record_or_the_same_reject(seed):
    rng = random.Random(seed)
    accounts = _accounts(200)
    raws = []
    for i in range(3000):
        raw = dict(accounts[i % len(accounts)])
        for _ in range(rng.randint(1, 3)):
            raw[rng.choice(FIELDS)] = rng.choice(ODD_VALUES)
        if rng.random() < 0.05:
            del raw[rng.choice(list(raw))]
        raws.append(raw)
    _assert_same(raws)
    assert any(isinstance(r, RowError) for r in map(_row_wise, raws))
    assert any(not isinstance(r, RowError) for r in map(_row_wise, raws))


def test_wrappers_and_non_objects_take_the_row_wise_way():
    user = _accounts(1)[0]
    _assert_same([1, "text", [], {"data": []}, {"profile": dict(user), "ID": "9"},
                  {"user": dict(user), "created_at": "Tue Oct 11 12:00:00 +0000 2011"},
                  {"public_metrics": {"followers_count": 3}, "username": "v2", "id": "5"}])


def test_a_future_observation_in_a_clean_batch_is_rejected_by_name():
    accounts = _accounts(50)
    accounts[7]["observed_at"] = datetime(2030, 1, 1, tzinfo=UTC)
    batch = normalize_batch(accounts, default_observed_at=OBSERVED, now=NOW)
    assert isinstance(batch[7], RowError) and batch[7].field == "observed_at"
    assert sum(isinstance(r, RowError) for r in batch) == 1


@pytest.mark.parametrize("line", [
    '{"id": 123456789012345678901, "screen_name": "big"}',   # past 64 bits: an int, not a float
    '{"id": -1234567890123456789012, "screen_name": "neg"}',
    '{"id": "1", "screen_name": "n", "external_score": NaN}',  # only the json module reads NaN
    '{"id": "1", "screen_name": "s", "name": "\\ud800"}',      # a lone surrogate, kept as it is
    '{"id": 1700000000, "screen_name": "plain", "followers_count": 5, "posts_per_day": 0.19}',
])
def test_json_lines_read_the_same_through_orjson_or_the_json_module(tmp_path, line):
    import json

    from perks.importing import readers

    path = tmp_path / "one.jsonl"
    path.write_text(line + "\n")
    [(number, record)] = list(readers.read_records(readers.open_source(path)))
    expected = json.loads(line)
    assert number == 1
    assert record.keys() == expected.keys()
    assert all(type(record[k]) is type(expected[k]) for k in expected)
    assert repr(record) == repr(expected)  # NaN != NaN, so compare the spelling
