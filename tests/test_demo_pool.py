from collections import Counter
from datetime import UTC, datetime
from statistics import median

import pytest

from perks.demo.pool import KINDS, generate_accounts

OBSERVED = datetime(2024, 5, 1, tzinfo=UTC)
TOPICS = [
    ("coffee", ["coffee", "espresso", "latte art"]),
    ("running", ["running", "marathon"]),
    ("tech", ["AI", "startups"]),
    ("food", ["recipes", "vegan food"]),
    ("beekeeping", ["beekeeping"]),
]
SHARES = ("retweet_share", "reply_share", "url_share", "automation_share",
          "interval_regularity", "duplicate_text_share")
TYPES = {
    "id": int, "screen_name": str, "name": str, "description": str, "location": str,
    "lang": str, "created_at": datetime, "followers_count": int, "friends_count": int,
    "statuses_count": int, "favourites_count": int, "listed_count": int, "verified": bool,
    "protected": bool, "default_profile": bool, "default_profile_image": bool,
    "geo_enabled": bool, "platform": str, "observed_at": datetime, "consent": str,
    "demo_kind": str, "demo_topics": tuple,
}
OPTIONAL = {"url": str, "person_id": str, "birth_year": int, "posts_per_day": float,
            "distinct_sources": int, **dict.fromkeys(SHARES, float)}


def pool(n, seed=7):
    return list(generate_accounts(n, seed=seed, topics=TOPICS, observed_at=OBSERVED))


@pytest.fixture(scope="module")
def big():
    return pool(20_000)


def test_same_seed_same_records_and_small_pool_is_a_prefix(big):
    assert pool(300) == pool(300)
    # Only a person link cut in two by the smaller pool's end may differ.
    assert [{**r, "person_id": None} for r in pool(300)] == \
        [{**r, "person_id": None} for r in big[:300]]


def test_different_seed_different_records():
    a, b = pool(200, seed=1), pool(200, seed=2)
    assert [r["screen_name"] for r in a] != [r["screen_name"] for r in b]
    assert {r["id"] for r in a}.isdisjoint(r["id"] for r in b)


@pytest.mark.parametrize("n", [0, 1, 8193])
def test_n_respected(n):
    assert len(pool(n)) == n


def test_ids_and_handles_unique(big):
    assert len({r["id"] for r in big}) == len(big)
    assert len({r["screen_name"].lower() for r in big}) == len(big)
    assert all(0 < len(r["screen_name"]) <= 15 for r in big)


def test_every_key_with_the_right_type(big):
    for r in big[:3000]:
        assert set(r) == set(TYPES) | set(OPTIONAL)
        for key, kind in TYPES.items():
            assert type(r[key]) is kind, key
        for key, kind in OPTIONAL.items():
            assert r[key] is None or type(r[key]) is kind, key
        assert r["platform"] == "twitter" and r["observed_at"] == OBSERVED
        assert r["consent"] in ("opted_in", "unknown", "opted_out")
        assert set(r["demo_topics"]) <= {slug for slug, _ in TOPICS}


def test_values_are_plausible(big):
    for r in big:
        assert r["created_at"] < OBSERVED
        assert (OBSERVED - r["created_at"]).days <= 15 * 366
        assert min(r["followers_count"], r["friends_count"], r["statuses_count"],
                   r["favourites_count"], r["listed_count"]) >= 0
        for key in SHARES:
            assert r[key] is None or 0 <= r[key] <= 1
        if r["retweet_share"] is not None:
            assert r["retweet_share"] + r["reply_share"] <= 1
            assert r["posts_per_day"] >= 0 and r["distinct_sources"] >= 1


def test_mix_of_kinds_roughly_as_designed(big):
    kinds = Counter(r["demo_kind"] for r in big)
    assert set(kinds) == set(KINDS)
    assert 0.78 < kinds["genuine"] / len(big) < 0.86
    for kind in KINDS[1:]:
        assert 0.015 < kinds[kind] / len(big) < 0.06, kind


def test_heavy_tailed_audience(big):
    followers = [r["followers_count"] for r in big]
    assert 100 <= median(followers) <= 1_000
    assert max(followers) > 100 * median(followers)
    assert sum(f > 1_000_000 for f in followers) >= 1


def test_topics_skewed_so_there_is_a_popular_and_a_rare_one(big):
    counts = Counter(t for r in big for t in r["demo_topics"])
    assert counts["coffee"] > 3 * counts["beekeeping"] > 0


def test_sensitive_cases_present(big):
    def share(pred):
        return sum(map(pred, big)) / len(big)

    minor = share(lambda r: r["birth_year"] is not None and OBSERVED.year - r["birth_year"] < 18)
    assert 0.005 < minor < 0.02
    assert any(("y/o" in r["description"] or "grade" in r["description"]) for r in big)
    assert 0.01 < share(lambda r: r["protected"]) < 0.03
    assert 0.005 < share(lambda r: r["consent"] == "opted_out") < 0.02
    assert 0.12 < share(lambda r: r["consent"] == "opted_in") < 0.18
    assert 0.25 < share(lambda r: r["posts_per_day"] is None) < 0.35


def test_linked_accounts_are_small_groups(big):
    groups = Counter(r["person_id"] for r in big if r["person_id"])
    assert set(groups.values()) <= {2, 3}
    assert 0.01 < sum(groups.values()) / len(big) < 0.03


def test_bot_kinds_differ_from_genuine_on_average(big):
    def med(kind, key):
        return median(r[key] for r in big if r["demo_kind"] == kind and r[key] is not None)

    assert med("automated", "automation_share") > 5 * med("genuine", "automation_share")
    assert med("gamed", "retweet_share") > 2 * med("genuine", "retweet_share")
    assert med("bought_followers", "followers_count") > 10 * med("genuine", "followers_count")
    ring = [r for r in big if r["demo_kind"] == "follow_back_ring"]
    assert median(r["friends_count"] / max(r["followers_count"], 1) for r in ring) == \
        pytest.approx(1, abs=0.1)
    spam = [r for r in big if r["demo_kind"] == "spam_bot"]
    assert sum(r["default_profile"] for r in spam) > len(spam) / 2
    assert med("spam_bot", "followers_count") < med("genuine", "followers_count") / 5
