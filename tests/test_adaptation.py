"""The threshold policy, the model store, per-brand adaptation and `perks evaluate --adapt`."""

import json
import shutil

import numpy as np
import pytest
from sqlalchemy import func, select

from perks.campaigns import matching, rules
from perks.demo import DEMO_CAMPAIGN, run_demo
from perks.detection import adapt, policy, stacking, store
from perks.detection.detector import Detector
from perks.detection.evaluate import reviewer_picks
from perks.models import Account, BrandBotScore, Campaign
from perks.review import decisions
from perks.review.queue import queue_page
from tests.conftest import FAST_HASH, AuthActions, gen_user
from tests.test_campaigns import gen_campaign


@pytest.fixture(autouse=True)
def fresh_policy(monkeypatch, tmp_path):
    store.configure(tmp_path)  # an app built in the test configures the same folder
    monkeypatch.setattr(policy, "CHECK_SECONDS", 0.0)  # no waiting in tests: check every call
    policy.forget_cache()
    yield
    policy.forget_cache()
    store.configure(None)


def test_one_vocabulary_with_the_old_name_as_alias():
    assert policy.STRICTNESS == ("lenient", "balanced", "strict")
    bundled = Detector.load(store.BUNDLED_MODEL)
    assert policy.threshold_for("balanced") == bundled.threshold
    assert policy.threshold_for("Standard") == policy.threshold_for("balanced")
    assert policy.threshold_for("0.42") == 0.42 and policy.threshold_for(1.7) == 1.0
    assert (policy.threshold_for("strict") <= policy.threshold_for("balanced")
            <= policy.threshold_for("lenient"))
    with pytest.raises(ValueError, match="lenient, balanced, strict"):
        policy.threshold_for("paranoid")


def test_strictness_table_shows_cross_collection_estimates_not_in_domain_ones():
    table = policy.strictness_table()
    card = Detector.load(store.BUNDLED_MODEL).card
    balanced = next(s for s in table.settings if s.name == "balanced")
    in_domain = policy.curve_point(card["precision_recall_curve"], balanced.threshold)
    cross = policy.curve_point(card["cross_collection_curve"], balanced.threshold)
    assert (balanced.precision, balanced.recall) == (cross["precision"], cross["recall"])
    assert balanced.precision < in_domain["precision"]  # the honest figure is lower
    assert "other data" in table.note


def _publish_model(version: str, threshold: float) -> None:
    """What `perks train` leaves behind: a new version folder with model and card, active."""
    folder = store.new_base_dir(version)
    shutil.copy(store.BUNDLED_MODEL, folder / store.MODEL_FILE)
    card = json.loads((store.BUNDLED_MODEL.parent / store.CARD_FILE).read_text())
    card.update(version=version, threshold=threshold)
    (folder / store.CARD_FILE).write_text(json.dumps(card))
    store.activate_base(version)


def test_a_retrain_reaches_a_running_server_without_restart(app, client):
    gen_user(app, role="admin")
    AuthActions(client).login()
    bundled = Detector.load(store.BUNDLED_MODEL).version
    assert bundled in client.get("/review/threshold").get_data(as_text=True)
    _publish_model("9.9+retrained", 0.35)  # another process trains; this one keeps serving
    page = client.get("/review/threshold").get_data(as_text=True)
    assert "9.9+retrained" in page and "0.35" in page
    assert policy.threshold_for("balanced") == 0.35
    store.activate_base(None)  # back to the bundled model, as reversible
    assert bundled in client.get("/review/threshold").get_data(as_text=True)
    assert not list((store.BUNDLED_MODEL.parent).glob("9.9*"))  # nothing in the package


def test_the_cache_checks_only_every_few_seconds(app, monkeypatch):
    monkeypatch.setattr(policy, "CHECK_SECONDS", 3600.0)
    first = policy.current_detector()
    _publish_model("9.9+later", 0.3)
    assert policy.current_detector() is first  # within the check interval: no file access
    monkeypatch.setattr(policy, "CHECK_SECONDS", 0.0)
    assert policy.current_detector().version == "9.9+later"


# --- adaptation --------------------------------------------------------------------------

@pytest.fixture
def demo_pool(db_app, session):
    """A small demo pool scored by the bundled model, the demo brand's campaign, and the
    same campaign for a second brand."""
    run_demo(session=session, accounts=800, seed=3, hash_method=FAST_HASH)
    demo = session.execute(select(Campaign)).scalars().one()
    other = gen_campaign(session, brand="Brand B", **{**DEMO_CAMPAIGN, "name": "B's brew"})
    return demo, other


def _flagged(session, campaign) -> set[int]:
    ctx = matching.context(session, campaign, bot_threshold=policy.campaign_threshold(campaign))
    # The whole pool, not only the topic match: the flag rule is what is under test.
    return set(session.execute(select(Account.__table__.c.id).where(
        rules.flagged(rules.ACCOUNTS, ctx))).scalars())


def _decide(session, brand_id, labels: dict[int, str]) -> None:
    for account_id, decision in labels.items():
        decisions.decide(session=session, brand_id=brand_id, account_id=account_id,
                         decision=decision, user_id=None, expected_version=0, refresh=False)
    session.commit()


def _demo_labels(session, n: int) -> dict[int, str]:
    """Ground-truth decisions for n accounts, picked as the review queue and audit would."""
    rows = session.execute(select(Account.id, Account.bot_probability, Account.screen_name)
                           .where(Account.bot_probability.is_not(None))
                           .order_by(Account.id)).all()
    kinds = _kinds(session)
    picks = reviewer_picks(np.array([r.bot_probability for r in rows]), n, seed=1)
    return {rows[i].id: ("genuine" if kinds[rows[i].screen_name] == "genuine" else "automated")
            for i in picks}


def _kinds(session) -> dict[str, str]:
    from perks.demo import demo_observed_at
    from perks.demo.pool import generate_accounts
    from perks.topics import load_taxonomy

    taxonomy = [(t.slug, t.keywords) for t in load_taxonomy()]
    return {r["screen_name"]: r["demo_kind"] for r in generate_accounts(
        800, seed=3, topics=taxonomy, observed_at=demo_observed_at())}


def test_brand_a_decisions_leave_brand_b_flags_unchanged(demo_pool, session):
    demo, other = demo_pool
    before_a, before_b = _flagged(session, demo), _flagged(session, other)
    assert before_a == before_b  # same campaign, same model: same flags
    _decide(session, demo.brand_id, _demo_labels(session, 60))
    result = adapt.adapt_brand(session=session, brand_id=demo.brand_id)
    decisions.refresh_shortlists(session=session, brand_id=demo.brand_id)
    session.commit()
    assert result.rows_written > 0 and result.decisions
    brands = set(session.execute(select(BrandBotScore.brand_id).distinct()).scalars())
    assert brands == {demo.brand_id}
    assert _flagged(session, demo) != before_a  # the brand's own flags moved
    assert _flagged(session, other) == before_b  # the other brand's did not
    assert policy.current_detector(other.brand_id).version == policy.current_detector().version
    assert policy.current_detector(demo.brand_id).version != policy.current_detector().version
    # Reversible: back to the base model, the brand's flags are the bundled ones again.
    adapt.revert_brand(session=session, brand_id=demo.brand_id)
    session.commit()
    assert session.execute(select(func.count()).select_from(BrandBotScore)).scalar_one() == 0
    assert _flagged(session, demo) == before_a
    history = adapt.adapter_history(demo.brand_id)
    assert len(history) == 1 and not history[0]["active"]
    adapt.revert_brand(session=session, brand_id=demo.brand_id, version=history[0]["version"])
    session.commit()
    assert _flagged(session, demo) != before_a


def test_adapted_flags_carry_reasons_in_the_brand_queue(demo_pool, session):
    demo, _ = demo_pool
    _decide(session, demo.brand_id, _demo_labels(session, 60))
    adapt.adapt_brand(session=session, brand_id=demo.brand_id)
    session.commit()
    page = queue_page(session, brand_id=demo.brand_id, per_page=500)
    assert page.items and all(item.reasons for item in page.items)
    assert all("_" not in r and "only 0 " not in r for i in page.items for r in i.reasons)


def test_a_handful_of_decisions_does_not_swing_the_pool(demo_pool, session):
    demo, _ = demo_pool
    probabilities = np.array(session.execute(
        select(Account.bot_probability).where(Account.bot_probability.is_not(None))
        .order_by(Account.id)).scalars().all())
    base = policy.current_detector()
    profiles = [dict(r) for r in session.execute(
        select(Account.__table__).where(Account.bot_probability.is_not(None))
        .order_by(Account.id)).mappings()]
    labels = _demo_labels(session, 200)
    by_id = {p["id"]: p for p in profiles}
    ids = list(labels)
    few = adapt.adapt_detector(base, [by_id[i] for i in ids[:6]],
                               [adapt.LABELS[labels[i]] for i in ids[:6]])
    many = adapt.adapt_detector(base, [by_id[i] for i in ids],
                                [adapt.LABELS[labels[i]] for i in ids])
    moved_few = np.abs(few.probabilities(profiles) - probabilities)
    moved_many = np.abs(many.probabilities(profiles) - probabilities)
    assert few.stack.weight < 0.25 < many.stack.weight
    assert np.median(moved_few) < np.median(moved_many)


def test_adapt_and_revert_commands(demo_pool, db_app, session):
    demo, _ = demo_pool
    _decide(session, demo.brand_id, _demo_labels(session, 30))
    runner = db_app.test_cli_runner()
    result = runner.invoke(args=["review", "adapt", "--brand", "Demo Coffee Roasters", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["rescored"] == 800 and payload["seconds"]["fit"] < 30
    listing = runner.invoke(args=["review", "revert", "--brand", "Demo Coffee Roasters",
                                  "--list"])
    assert payload["version"] in listing.output and listing.output.startswith("*")
    result = runner.invoke(args=["review", "revert", "--brand", "Demo Coffee Roasters"])
    assert result.exit_code == 0 and "base model" in result.output


# --- perks evaluate --adapt --------------------------------------------------------------

def test_reviewer_picks_half_top_half_uniform():
    p = np.linspace(0, 1, 100)
    picked = reviewer_picks(p, 20, seed=4)
    assert len(set(picked.tolist())) == 20
    assert set(range(90, 100)) <= set(picked.tolist())  # the top ten: the review queue
    assert len([i for i in picked if i < 90]) == 10  # the rest: a uniform sample


def gen_labelled_file(tmp_path, n=120, seed=5):
    """A CSV of n accounts with a label column: bots with few followers and many friends,
    people with more of both, overlapping so that neither model is perfect."""
    rng = np.random.default_rng(seed)
    lines = ["id,screen_name,name,followers_count,friends_count,statuses_count,"
             "favourites_count,listed_count,created_at,crawled_at,description,label"]
    for i in range(n):
        bot = i % 2
        followers = int(rng.lognormal(3 if bot else 6, 1.5))
        friends = int(rng.lognormal(6 if bot else 5.5, 1))
        lines.append(f"{i},user{i}x{rng.integers(10**4)},User {i},{followers},{friends},"
                     f"{int(rng.lognormal(5, 2))},{int(rng.lognormal(3 if bot else 6, 2))},"
                     f"{int(rng.lognormal(0 if bot else 2, 1))},2012-01-01T00:00:00Z,"
                     f"2015-05-01T00:00:00Z,{'' if bot and rng.random() < 0.6 else 'a bio'},"
                     f"{'bot' if bot else 'human'}")
    path = tmp_path / "labelled.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_adapt_reports_before_and_after_with_plain_keys(tmp_path):
    from click.testing import CliRunner

    from perks.cli.detection import evaluate_command

    path = gen_labelled_file(tmp_path)
    plain = json.loads(CliRunner().invoke(evaluate_command, [str(path), "--json"]).output)
    result = CliRunner().invoke(evaluate_command, [str(path), "--adapt", "20", "--seed", "2",
                                                   "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    keys = set(plain) - {"files"}
    assert set(report["before"]) == set(report["after"]) == keys
    assert report["decisions"]["n"] == 20
    assert report["before"]["n"] == report["after"]["n"] == plain["n"] - 20
    too_many = CliRunner().invoke(evaluate_command, [str(path), "--adapt", "100000"])
    assert too_many.exit_code != 0 and "leaves no account" in too_many.output


def test_stack_needs_both_classes():
    z = np.zeros(5)
    features = np.zeros((5, 19))
    stack = stacking.fit_stack(z, features, np.ones(5))
    assert stack.coef is None and np.array_equal(stack.adjust(z, features), z)

