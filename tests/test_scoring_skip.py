"""`perks score` skips accounts whose inputs and versions did not change since their last
scoring, and rescores everyone when the score version, bot model, taxonomy or percentile
reference changes, or when asked to."""

import dataclasses
import json
from types import SimpleNamespace

from sqlalchemy import select, text

from perks.cli.scoring import score_command, summary_lines
from perks.importing import import_records
from perks.models import Account, AccountTopic, Topic
from perks.scoring import influence
from perks.scoring.run import score_pool
from perks.topics import infer, load_taxonomy

OBSERVED = "2020-06-01T00:00:00+00:00"
BIOS = ("Coffee roaster and barista, espresso every day", "Marathon runner and trail running",
        "Yoga teacher", "I like turtles", "Football fan", "Espresso and latte art",
        "Vegan food blogger", "Painter and illustrator")


def records(changes: dict[int, dict] | None = None) -> list[dict]:
    pool = [{"id": i + 1, "screen_name": f"acct{i}", "followers_count": 100 * (i + 1),
             "friends_count": 300, "statuses_count": 400 + i, "favourites_count": 2000,
             "listed_count": 3 * i, "description": bio, "created_at": "2017-09-05T00:00:00+00:00",
             "crawled_at": OBSERVED} for i, bio in enumerate(BIOS)]
    for index, change in (changes or {}).items():
        pool[index] |= change
    return pool


def import_pool(session, changes=None, only=None):
    pool = records(changes)
    pool = pool if only is None else [pool[i] for i in only]
    result = import_records(session, enumerate(pool, 1), source_name="t")
    assert result.rejected == 0


def stored(session):
    """Per handle: what a scoring writes, and the account's inferred topics."""
    session.expire_all()
    accounts = session.execute(select(Account)).scalars().all()
    topics = session.execute(
        select(AccountTopic.account_id, Topic.slug, AccountTopic.weight, AccountTopic.evidence)
        .join(Topic, Topic.id == AccountTopic.topic_id)
        .where(AccountTopic.source == "inferred")).all()
    by_account = {}
    for account_id, slug, weight, evidence in topics:
        by_account.setdefault(account_id, {})[slug] = (weight, evidence)
    return {a.screen_name: {"scored_at": a.scored_at, "score": a.influence_score,
                            "percentile": a.influence_percentile, "version": a.score_version,
                            "bot": (a.bot_probability, a.bot_model_version, a.bot_reasons),
                            "topics": by_account.get(a.id, {})} for a in accounts}


class VersionedDetector:
    """A detector stand-in: probability from the posts count, the version we set."""

    def __init__(self, version):
        self.version = version

    def assess(self, accounts):
        return [SimpleNamespace(probability=min(1.0, a["statuses_count"] / 1000),
                                flagged=a["statuses_count"] > 405, reasons=("many posts",),
                                rule_flags=()) for a in accounts]


def test_second_run_skips_every_account_and_changes_nothing(session):
    import_pool(session)
    first = score_pool(session, chunk_size=3, detector=VersionedDetector("m1"))
    assert first.skipped == 0 and first.scored == len(BIOS)
    before = stored(session)
    assert all(row["topics"] for name, row in before.items() if name != "acct3")  # turtles
    # scored_at is stored as SQLAlchemy stores every timestamp (SQLite: the same ISO text).
    raw = session.execute(text("SELECT scored_at, updated_at FROM account")).first()
    if isinstance(raw[0], str):
        assert len(raw[0]) == len(raw[1]) and "+" not in raw[0]
    second = score_pool(session, chunk_size=3, detector=VersionedDetector("m1"))
    assert second.accounts == len(BIOS) and second.skipped == len(BIOS) and second.scored == 0
    assert second.topics_inferred == 0 and second.snapshots == 0
    assert stored(session) == before
    assert second.taxonomy_changed is False
    lines = "\n".join(summary_lines(second))
    assert f"0 recomputed, {len(BIOS)} unchanged since their last scoring and skipped" in lines

    forced = score_pool(session, chunk_size=3, detector=VersionedDetector("m1"),
                        rescore_all=True)
    assert forced.skipped == 0 and forced.scored == len(BIOS)
    after = stored(session)
    assert all(after[h]["scored_at"] > before[h]["scored_at"] for h in before)
    assert {h: {k: v for k, v in row.items() if k != "scored_at"} for h, row in after.items()} \
        == {h: {k: v for k, v in row.items() if k != "scored_at"} for h, row in before.items()}


def test_changing_one_account_rescores_only_it(session):
    import_pool(session)
    score_pool(session, chunk_size=3)
    before = stored(session)
    # acct4 changes (a later observation with another bio); its neighbours in the same chunk
    # of ids keep their scores and their inferred topics. (Re-importing a record marks the
    # account updated even when nothing in it changed, so only the changed one is imported.)
    import_pool(session, {4: {"description": "Yoga and pilates every morning",
                              "followers_count": 90_000,
                              "crawled_at": "2020-07-01T00:00:00+00:00"}}, only=[4])
    summary = score_pool(session, chunk_size=3)
    assert summary.skipped == len(BIOS) - 1 and summary.scored == 1
    after = stored(session)
    assert {h: r for h, r in after.items() if h != "acct4"} == {
        h: r for h, r in before.items() if h != "acct4"}
    changed = after["acct4"]
    assert changed["scored_at"] > before["acct4"]["scored_at"]
    assert changed["score"] > before["acct4"]["score"]
    assert "yoga" in changed["topics"] and "football" not in changed["topics"]


def test_a_new_score_version_or_bot_model_rescores_everyone(session, monkeypatch):
    import_pool(session)
    score_pool(session, detector=VersionedDetector("m1"))
    again = score_pool(session, detector=VersionedDetector("m2"))
    assert again.skipped == 0 and again.scored == len(BIOS)
    assert {row["bot"][1] for row in stored(session).values()} == {"m2"}
    # Without a detector the bot model does not matter: nothing changed, all skipped.
    assert score_pool(session).skipped == len(BIOS)
    monkeypatch.setattr(influence, "SCORE_VERSION", "2")
    bumped = score_pool(session, detector=VersionedDetector("m2"))
    assert bumped.skipped == 0 and bumped.snapshots == len(BIOS)
    assert bumped.previous_versions == {"1": len(BIOS)}
    assert {row["version"] for row in stored(session).values()} == {"2"}


def test_a_changed_taxonomy_or_recalibration_rescores_everyone(session, monkeypatch):
    import_pool(session)
    score_pool(session)
    before = stored(session)
    assert "coffee" not in before["acct3"]["topics"]
    taxonomy = load_taxonomy()
    coffee = next(i for i, t in enumerate(taxonomy) if t.slug == "coffee")
    taxonomy[coffee] = dataclasses.replace(
        taxonomy[coffee], keywords=(*taxonomy[coffee].keywords, "turtles", "like turtles"))
    monkeypatch.setattr(infer, "load_taxonomy", lambda: list(taxonomy))
    summary = score_pool(session)
    assert summary.taxonomy_changed is True
    assert summary.skipped == 0 and summary.scored == len(BIOS)
    assert "coffee" in stored(session)["acct3"]["topics"]
    assert score_pool(session).skipped == len(BIOS)  # the new taxonomy is now the recorded one
    recalibrated = score_pool(session, recalibrate=True)
    assert recalibrated.skipped == 0
    assert recalibrated.percentile_reference["action"] == "recalibrated"


def test_score_command_all_rescores_and_json_counts_the_skipped(app, runner):
    with app.app_context():
        from perks import db
        from perks.db import session_scope

        with session_scope(db.get_engine()) as session:
            import_pool(session)
        first = json.loads(runner.invoke(score_command, ["--json"]).output)
        assert (first["accounts"], first["scored"], first["skipped"]) == (len(BIOS),) * 2 + (0,)
        second = json.loads(runner.invoke(score_command, ["--json"]).output)
        assert (second["scored"], second["skipped"]) == (0, len(BIOS))
        forced = runner.invoke(score_command, ["--all"])
        assert forced.exit_code == 0, forced.output
        assert f"Scored {len(BIOS)} accounts" in forced.output
        assert "skipped" not in forced.output
