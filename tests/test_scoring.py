"""Influence score (component by component), percentiles, confidence, and `score_pool` on a
small imported pool: topics, snapshots on a version change, and the `perks score` command."""

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.stats import spearmanr
from sqlalchemy import select

from perks.cli.scoring import score_command
from perks.importing import import_records
from perks.models import Account, AccountTopic, ScoreSnapshot, Topic
from perks.scoring import influence
from perks.scoring.history import score_history
from perks.scoring.influence import (
    COMPONENT_NAMES,
    COMPONENTS,
    NOT_ENOUGH_DATA,
    OK,
    InfluenceInputs,
    percentile_ranks,
    score_influence,
)
from perks.scoring.run import score_pool

OBSERVED = datetime(2020, 6, 1, tzinfo=UTC)


def gen_account(**overrides):
    """A plain genuine account, 1,000 days old when observed, 2 posts a day."""
    account = {"followers_count": 5000, "friends_count": 400, "statuses_count": 2000,
               "favourites_count": 3000, "listed_count": 50, "posts_per_day": None,
               "created_at": OBSERVED - timedelta(days=1000), "observed_at": OBSERVED}
    account.update(overrides)
    return account


def scored(*accounts):
    return score_influence(InfluenceInputs.from_accounts(accounts))


def component(account, name):
    return float(scored(account).components[name][0])


def test_weights_sum_to_one_and_everything_is_0_to_100():
    assert math.isclose(sum(c.weight for c in COMPONENTS), 1.0)
    rng = np.random.default_rng(3)
    n = 2000
    inputs = InfluenceInputs(
        followers=rng.lognormal(6, 3, n).round(), statuses=rng.lognormal(7, 3, n).round(),
        favourites=rng.lognormal(6, 3, n).round(), listed=rng.lognormal(1, 2, n).round(),
        posts_per_day=np.where(rng.random(n) < 0.5, np.nan, rng.lognormal(0, 3, n)),
        age_days=np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 6000, n)))
    result = score_influence(inputs)
    assert ((result.score >= 0) & (result.score <= 100)).all()
    for name in COMPONENT_NAMES:
        known = result.components[name][~np.isnan(result.components[name])]
        assert ((known >= 0) & (known <= 100)).all(), name


@pytest.mark.parametrize(
    ("name", "overrides", "expected"),
    [
        ("reach", {"followers_count": 0}, 0.0),
        ("reach", {"followers_count": 1000}, 42.9),  # log10(1001) / log10(10,000,001)
        ("reach", {"followers_count": 10_000_000}, 100.0),
        ("reach", {"followers_count": 90_000_000}, 100.0),
        ("authority", {"listed_count": 0}, 0.0),
        # 0.6 * log10(101)/log10(100001) + 0.4 * log(1 + 20)/log(51) with 20 lists per 1,000
        ("authority", {"listed_count": 100}, 55.0),
        ("engagement", {"favourites_count": 0, "statuses_count": 2000}, 13.6),
        ("engagement", {"favourites_count": 2000, "statuses_count": 2000}, 38.6),
        ("activity", {"posts_per_day": 1.0}, 86.5),
        ("activity", {"posts_per_day": 50.0}, 100.0),
        ("activity", {"posts_per_day": 500.0}, 50.0),
        ("activity", {"posts_per_day": 5000.0}, 0.0),
        ("activity", {"posts_per_day": None, "statuses_count": 500}, 63.2),  # 1 every 2 days
        ("growth", {"followers_count": 1000}, 26.0),  # one follower a day over 1,000 days
        ("growth", {"followers_count": 100_000}, 75.0),
    ],
)
def test_component_values_match_the_documented_formula(name, overrides, expected):
    assert component(gen_account(**overrides), name) == pytest.approx(expected, abs=0.1)


def test_score_is_the_weighted_sum_of_components():
    result = scored(gen_account())
    total = sum(c.weight * result.components[c.name][0] for c in COMPONENTS)
    assert result.score[0] == pytest.approx(total, abs=0.01)


def test_more_followers_never_lower_the_score():
    followers = [0, 10, 50, 100, 1000, 10**4, 10**5, 10**6, 5 * 10**6, 10**7]
    result = scored(*(gen_account(followers_count=f) for f in followers))
    assert np.all(np.diff(result.score) >= 0)
    assert np.all(np.diff(result.components["reach"]) > 0)
    # And on random accounts, with lists fixed (the authority rate falls as followers rise).
    rng = np.random.default_rng(11)
    base = [gen_account(followers_count=int(rng.lognormal(6, 2.5)),
                        listed_count=int(rng.lognormal(2, 2.5)),
                        statuses_count=int(rng.lognormal(7, 2)) + 1,
                        favourites_count=int(rng.lognormal(6, 2)),
                        created_at=OBSERVED - timedelta(days=float(rng.uniform(1, 6000))))
            for _ in range(300)]
    more = [a | {"followers_count": a["followers_count"] * 3 + 1} for a in base]
    assert np.all(scored(*more).score >= scored(*base).score)


@pytest.mark.parametrize("measured", [True, False])
def test_auto_poster_does_not_outrank_a_real_account_with_the_same_audience(measured):
    real = gen_account(posts_per_day=2.0 if measured else None)
    days = 1000
    auto = gen_account(statuses_count=3000 * days, favourites_count=10,
                       posts_per_day=3000.0 if measured else None)
    result = scored(real, auto)
    assert result.components["reach"][0] == result.components["reach"][1]
    assert result.score[1] < result.score[0] - 5
    assert result.components["activity"][1] < result.components["activity"][0]
    # Even with the same likes given, flooding does not pay.
    same_likes = gen_account(statuses_count=3000 * days, posts_per_day=3000.0)
    assert scored(real, same_likes).score[1] < scored(real, same_likes).score[0]


def test_age_and_growth_are_measured_from_observed_at_not_today():
    created = datetime(2015, 1, 1, tzinfo=UTC)
    early = gen_account(created_at=created, observed_at=created + timedelta(days=100))
    late = gen_account(created_at=created, observed_at=created + timedelta(days=2000))
    result = scored(early, late)
    per_day = np.array([5000 / 100, 5000 / 2000])
    expected = 100 * np.log10(1 + 10 * per_day) / np.log10(1 + 10 * 1000)
    assert result.components["growth"] == pytest.approx(np.round(expected, 1))
    assert result.components["growth"][0] > result.components["growth"][1]
    # Scoring the same observation again later gives the same numbers.
    assert scored(early).score[0] == result.score[0]


@pytest.mark.parametrize(
    ("overrides", "state"),
    [
        ({}, OK),
        ({"created_at": OBSERVED - timedelta(days=10)}, NOT_ENOUGH_DATA),
        ({"statuses_count": 19}, NOT_ENOUGH_DATA),
        ({"statuses_count": 20, "created_at": OBSERVED - timedelta(days=30)}, OK),
        ({"created_at": None}, NOT_ENOUGH_DATA),
    ],
)
def test_confidence(overrides, state):
    assert scored(gen_account(**overrides)).confidence() == [state]


def test_unknown_age_leaves_growth_unknown_and_counts_it_as_zero():
    result = scored(gen_account(created_at=None))
    [components] = result.component_dicts()
    assert components["growth"] is None and components["activity"] is None
    known = sum(c.weight * (components[c.name] or 0) for c in COMPONENTS)
    assert result.score[0] == pytest.approx(known, abs=0.01)


def test_percentile_ranks_order_and_ties():
    pool = np.sort(np.array([10.0, 20.0, 20.0, 30.0, 40.0]))
    ranks = percentile_ranks(np.array([10.0, 20.0, 30.0, 40.0, 5.0, 50.0]), pool)
    assert ranks.tolist() == [10.0, 40.0, 70.0, 90.0, 0.0, 100.0]
    assert np.isnan(percentile_ranks(np.array([1.0]), np.empty(0))).all()


# --- score_pool on a small imported pool, on SQLite and PostgreSQL -------------------------

def gen_records():
    observed = "2020-06-01T00:00:00+00:00"
    created = "2017-09-05T00:00:00+00:00"  # 1,000 days before the observation
    common = {"friends_count": 300, "favourites_count": 2000, "listed_count": 20,
              "verified": False, "created_at": created, "crawled_at": observed}
    return [
        common | {"id": 1, "screen_name": "big", "followers_count": 200_000,
                  "statuses_count": 5000, "listed_count": 2000,
                  "description": "Coffee roaster and barista, espresso every day"},
        common | {"id": 2, "screen_name": "mid", "followers_count": 3000, "statuses_count": 2000,
                  "description": "Marathon runner", "topics": {"football": 0.9, "running": 0.3}},
        common | {"id": 3, "screen_name": "small", "followers_count": 40, "statuses_count": 800,
                  "description": "I like turtles", "post_text": "Ran a half marathon today"},
        common | {"id": 4, "screen_name": "flood", "followers_count": 3000,
                  "statuses_count": 3_000_000, "favourites_count": 5},
        common | {"id": 5, "screen_name": "newbie", "followers_count": 100, "statuses_count": 5,
                  "created_at": "2020-05-25T00:00:00+00:00"},
        # Same profile as "mid" but seen 1,000 days later: older at observation, slower growth.
        common | {"id": 6, "screen_name": "mid_later", "followers_count": 3000,
                  "statuses_count": 2000, "crawled_at": "2023-02-26T00:00:00+00:00"},
    ]


def import_pool(session, records=None):
    result = import_records(session, enumerate(records or gen_records(), 1), source_name="t")
    assert result.rejected == 0


def accounts_by_handle(session):
    return {a.screen_name: a for a in session.execute(select(Account)).scalars()}


def topics_of(session, account_id):
    rows = session.execute(
        select(Topic.slug, AccountTopic.weight, AccountTopic.source, AccountTopic.evidence)
        .join(Topic, Topic.id == AccountTopic.topic_id)
        .where(AccountTopic.account_id == account_id)).all()
    return {slug: (weight, source, evidence) for slug, weight, source, evidence in rows}


def test_score_pool_writes_scores_percentiles_confidence(session):
    import_pool(session)
    summary = score_pool(session, chunk_size=4)  # several chunks
    session.expire_all()
    accounts = accounts_by_handle(session)
    assert summary.accounts == 6
    assert summary.confidence == {OK: 5, NOT_ENOUGH_DATA: 1}
    assert accounts["newbie"].score_confidence == NOT_ENOUGH_DATA
    assert summary.moved_over_10 is None and summary.snapshots == 0
    assert summary.bots.startswith("not run") and summary.bots_flagged is None
    for account in accounts.values():
        assert account.score_version == influence.SCORE_VERSION
        assert set(account.score_components) == set(COMPONENT_NAMES)
        assert account.scored_at is not None and account.bot_probability is None
    by_score = sorted(accounts.values(), key=lambda a: a.influence_score)
    percentiles = [a.influence_percentile for a in by_score]
    assert percentiles == sorted(percentiles) and len(set(percentiles)) == 6
    assert accounts["big"].influence_percentile == pytest.approx(100 * 5.5 / 6, abs=0.01)
    assert accounts["flood"].influence_score < accounts["mid"].influence_score
    # The database computes the age from each account's own observed_at.
    mid, later = accounts["mid"], accounts["mid_later"]
    assert mid.score_components["growth"] > later.score_components["growth"]
    expected = scored(gen_account(followers_count=3000, statuses_count=2000,
                                  favourites_count=2000, listed_count=20,
                                  created_at=mid.created_at, observed_at=mid.observed_at))
    assert mid.score_components == expected.component_dicts()[0]
    assert mid.influence_score == pytest.approx(expected.score[0])


def test_score_pool_keeps_imported_topics_and_writes_inferred_ones(session):
    import_pool(session)
    summary = score_pool(session)
    accounts = accounts_by_handle(session)
    big = topics_of(session, accounts["big"].id)
    weight, source, evidence = big["coffee"]
    assert source == "inferred" and weight > 0.4
    assert {"coffee", "espresso", "barista"} <= set(evidence)
    # Topics the import gave stay, with their weights; the bio's own topic is not duplicated.
    mid = topics_of(session, accounts["mid"].id)
    assert mid["football"] == (0.9, "imported", ["given by the import"])
    assert mid["running"][:2] == (0.3, "imported")
    assert summary.imported_topics_kept == 1
    # Posts count as well as the bio.
    assert topics_of(session, accounts["small"].id)["running"][1] == "inferred"
    assert summary.topics_inferred == sum(
        1 for a in accounts.values() for t in topics_of(session, a.id).values()
        if t[1] == "inferred")


def test_rescoring_replaces_inferred_topics(session):
    import_pool(session)
    score_pool(session)
    changed = gen_records()
    changed[0]["description"] = "Yoga teacher"
    changed[0]["crawled_at"] = "2020-07-01T00:00:00+00:00"
    import_pool(session, changed)
    score_pool(session)
    big = topics_of(session, accounts_by_handle(session)["big"].id)
    assert "coffee" not in big and big["yoga"][1] == "inferred"


def test_version_change_keeps_snapshots_and_reports_what_moved(session, monkeypatch):
    import_pool(session)
    score_pool(session)
    session.expire_all()
    before = {a.id: (a.influence_score, a.influence_percentile, a.score_components)
              for a in accounts_by_handle(session).values()}
    # A recalibration: reach now saturates at 1,000 followers.
    monkeypatch.setattr(influence, "SCORE_VERSION", "2")
    monkeypatch.setattr(influence, "REACH_FULL_FOLLOWERS", 1000.0)
    summary = score_pool(session)
    session.expire_all()
    after = {a.id: a.influence_score for a in accounts_by_handle(session).values()}
    assert summary.previous_versions == {"1": 6} and summary.snapshots == 6
    ids = sorted(before)
    old = np.array([before[i][0] for i in ids])
    new = np.array([after[i] for i in ids])
    assert summary.moved_over_10 == int((np.abs(new - old) > 10).sum()) > 0
    assert summary.rank_correlation == pytest.approx(spearmanr(old, new).statistic, abs=1e-4)
    snapshots = session.execute(select(ScoreSnapshot)).scalars().all()
    assert {s.account_id: (s.influence_score, s.influence_percentile, s.components)
            for s in snapshots} == before
    assert {s.score_version for s in snapshots} == {"1"}
    assert all(s.scored_at is not None and s.taken_at is not None for s in snapshots)
    big_id = accounts_by_handle(session)["big"].id
    history = score_history(session, big_id)
    assert [h["score_version"] for h in history] == ["2", "1"]
    assert history[0]["influence_score"] == after[big_id] and history[0]["superseded_at"] is None
    assert history[1]["influence_score"] == before[big_id][0]
    assert history[1]["superseded_at"] is not None
    # Same version again: recompute, no new snapshots, nothing to report.
    again = score_pool(session)
    assert again.snapshots == 0 and again.moved_over_10 is None and again.previous_versions == {}
    assert len(session.execute(select(ScoreSnapshot)).scalars().all()) == 6


class FakeDetector:
    version = "fake-1"

    def assess(self, accounts):
        from types import SimpleNamespace

        assert all(a["influence_percentile"] is not None for a in accounts)  # this run's

        return [SimpleNamespace(probability=0.9 if a["statuses_count"] > 100_000 else 0.1,
                                flagged=a["statuses_count"] > 100_000,
                                reasons=("posts thousands of times a day",)
                                if a["statuses_count"] > 100_000 else (),
                                rule_flags=()) for a in accounts]


def test_detector_plugs_into_the_same_pass(session):
    import_pool(session)
    summary = score_pool(session, detector=FakeDetector())
    assert (summary.bots, summary.bots_flagged, summary.bot_model_version) == (
        "scored", 1, "fake-1")
    flood = accounts_by_handle(session)["flood"]
    session.refresh(flood)
    assert flood.bot_probability == 0.9 and flood.bot_model_version == "fake-1"
    assert flood.bot_reasons == ["posts thousands of times a day"]


def test_score_command_prints_a_summary(app, runner):
    with app.app_context():
        from perks import db
        from perks.db import session_scope

        with session_scope(db.get_engine()) as session:
            import_pool(session)
        result = runner.invoke(score_command, ["--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["accounts"] == 6 and data["score_version"] == influence.SCORE_VERSION
        assert data["confidence"] == {OK: 5, NOT_ENOUGH_DATA: 1}
        result = runner.invoke(score_command, [])
        assert result.exit_code == 0
        assert "Scored 6 accounts" in result.output and "bots:" in result.output


def test_components_are_stored_as_the_same_json_the_dicts_give():
    from perks.scoring.run import _components_json

    result = scored(gen_account(), gen_account(created_at=None, followers_count=7))
    assert [json.loads(text) for text in _components_json(result)] == result.component_dicts()


def test_score_pool_on_an_empty_pool(session):
    summary = score_pool(session)
    assert summary.accounts == 0 and summary.snapshots == 0 and summary.moved_over_10 is None
