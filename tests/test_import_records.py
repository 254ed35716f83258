"""Field parsing and validation of one record (perks.importing.records)."""

from datetime import UTC, datetime

import pytest

from perks.importing.records import RowError, normalize_record, parse_bool, parse_time

NOW = datetime(2020, 1, 1, tzinfo=UTC)


def gen_row(**fields):
    row = {"id": "42", "screen_name": "ana", "followers_count": "10", "friends_count": "5",
           "statuses_count": "100", "favourites_count": "3", "listed_count": "0",
           "created_at": "Tue Oct 11 12:00:00 +0000 2011"}
    row.update(fields)
    return row


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("", None), ("NULL", None), ("TRUE", True), ("FALSE", False), ("true", True),
    ("0", False), (True, True), (False, False), (1, True), (0, False), (None, None),
])
def test_booleans_in_every_spelling(raw, expected):
    assert parse_bool(raw, "verified") is expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Tue Oct 11 12:00:00 +0000 2011", datetime(2011, 10, 11, 12, tzinfo=UTC)),
    ("2011-10-11T12:00:00Z", datetime(2011, 10, 11, 12, tzinfo=UTC)),
    ("2011-10-11 14:00:00+02:00", datetime(2011, 10, 11, 12, tzinfo=UTC)),
    ("2011-10-11 12:00:00", datetime(2011, 10, 11, 12, tzinfo=UTC)),
])
def test_twitter_and_iso_times_become_utc(raw, expected):
    assert parse_time(raw, "created_at") == expected


def test_cresci_style_row_is_normalised():
    record = normalize_record(gen_row(verified="1", protected="", default_profile="NULL",
                                      crawled_at="2015-05-02 06:41:46"),
                              default_observed_at=NOW)
    assert record["verified"] is True and record["protected"] is False
    assert record["default_profile"] is False
    assert record["observed_at"] == datetime(2015, 5, 2, 6, 41, 46, tzinfo=UTC)
    assert record["followers_count"] == 10 and record["platform"] == "twitter"


def test_observed_at_prefers_crawl_time_over_cresci_timestamp():
    # cresci-2017's `timestamp` is the creation time in local time, not an observation.
    record = normalize_record(gen_row(timestamp="2011-10-11 14:00:00",
                                      crawled_at="2015-05-02 06:41:46"), default_observed_at=NOW)
    assert record["observed_at"].year == 2015


def test_tweet_object_carries_the_user_and_the_observation_time():
    tweet = {"created_at": "Fri May 17 13:00:28 +0000 2019", "text": "hello",
             "user": {**gen_row(), "id": 7, "verified": False}}
    record = normalize_record(tweet, default_observed_at=NOW)
    assert record["platform_id"] == "7"
    assert record["observed_at"] == datetime(2019, 5, 17, 13, 0, 28, tzinfo=UTC)
    assert record["post_text"] == "hello"


def test_missing_observation_time_falls_back_to_the_default():
    assert normalize_record(gen_row(), default_observed_at=NOW)["observed_at"] is NOW


def test_topics_and_extras():
    record = normalize_record(gen_row(topics="coffee:0.8;running", person_id="p1",
                                      consent="opted-in", retweet_share="0.5"),
                              default_observed_at=NOW)
    assert record["topics"] == {"coffee": 0.8, "running": 1.0}
    assert record["person_key"] == "p1" and record["consent"] == "opted_in"
    assert record["retweet_share"] == 0.5


@pytest.mark.parametrize(("fields", "field"), [
    ({"id": ""}, "id"),
    ({"id": "12 34"}, "id"),
    ({"screen_name": ""}, "screen_name"),
    ({"screen_name": "two words"}, "screen_name"),
    ({"followers_count": "-5"}, "followers_count"),
    ({"followers_count": "lots"}, "followers_count"),
    ({"followers_count": "1.5"}, "followers_count"),
    ({"friends_count": ""}, "friends_count"),
    ({"verified": "maybe"}, "verified"),
    ({"created_at": "yesterday"}, "created_at"),
    ({"created_at": "Tue Oct 11 12:00:00 +0000 2031", "crawled_at": "2015-01-01"}, "created_at"),
    ({"description": "x" * 6000}, "description"),
    ({"name": {"nested": "object"}}, "name"),
    ({"retweet_share": "1.5"}, "retweet_share"),
    ({"posts_per_day": "inf"}, "posts_per_day"),
    ({"consent": "whatever"}, "consent"),
    ({"birth_year": "1492"}, "birth_year"),
    ({"topics": "{not json"}, "topics"),
    ({"topics": "coffee:2"}, "topics"),
])
def test_hostile_fields_are_rejected_by_name(fields, field):
    with pytest.raises(RowError) as caught:
        normalize_record(gen_row(**fields), default_observed_at=NOW)
    assert caught.value.field == field


def test_nul_bytes_are_stripped_not_stored():
    record = normalize_record(gen_row(description="bio\x00 text"), default_observed_at=NOW)
    assert record["description"] == "bio text"


@pytest.mark.parametrize("raw", ["Tue Oct 11 12:00:00 +0000 2011",
                                 "Tue Oct 11 14:00:00 +0200 2011"])
def test_fast_twitter_time_path_agrees_with_strptime(raw):
    assert parse_time(raw, "created_at") == datetime(2011, 10, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["Tue Foo 11 12:00:00 +0000 2011",
                                 "Tue Oct 32 12:00:00 +0000 2011"])
def test_bad_twitter_times_are_rejected(raw):
    with pytest.raises(RowError):
        parse_time(raw, "created_at")
