"""Two `perks serve` instances on one PostgreSQL database, reviewers on both deciding the same
accounts at once: no decision is lost, no perk is double-booked, and every loser is shown the
conflict (issue 18, item 7). Real processes and HTTP, so the only thing they share is the
database, as two app servers behind a load balancer would."""

import os
import secrets
import threading

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from perks.auth.users import create_user, get_or_create_brand
from perks.bench.cluster import app_servers
from perks.bench.load import Client
from perks.campaigns import allocation
from perks.db import make_engine
from perks.models import ReviewAudit, ReviewDecision, ShortlistEntry
from tests.conftest import FAST_HASH, TEST_PASSWORD, _truncate_all
from tests.test_allocation_concurrency import one_free_place

REVIEWERS = ("ana@brand-a.example", "bo@brand-a.example")


@pytest.fixture
def two_servers(postgres_url, tmp_path):
    """The pool, a campaign and two reviewers in a fresh PostgreSQL database, served by two
    gunicorn instances on two ports; yields (campaign id, account ids, [base URLs])."""
    engine = make_engine(postgres_url)
    _truncate_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        ids, campaign_id = one_free_place(session)  # the booking race below
        brand = get_or_create_brand(session=session, name="Brand A")
        for email in REVIEWERS:
            create_user(session=session, email=email, password=TEST_PASSWORD, brand=brand,
                        hash_method=FAST_HASH)
        session.commit()
    engine.dispose()
    # What two app servers share besides the database: the secret that signs sessions.
    env = {**os.environ, "PERKS_DATABASE_URL": postgres_url, "PERKS_ENV": "production",
           "PERKS_SECRET_KEY": secrets.token_hex(32), "PERKS_INSTANCE_PATH": str(tmp_path)}
    with app_servers(env, tmp_path) as bases:  # started together: both prepare the database
        yield campaign_id, ids, bases
    for index in range(2):
        log = (tmp_path / f"server{index}.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]


def _at_once(*calls):
    """Run the calls in threads released together; return their results in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _decide_and_look(client: Client, account_id: int, decision: str) -> str:
    """Post a decision on a first look (version 0), then load the page the redirect names,
    as a browser does: the flash there is what the reviewer is told."""
    status, _ = client.post("/review/decide", {"one": f"{account_id}:{decision}",
                                               f"version_{account_id}": "0"})
    assert status in (302, 303)
    status, page = client.get("/review/")
    assert status == 200
    return page


def test_reviewers_on_two_servers_lose_no_decision_and_see_their_conflicts(
        two_servers, postgres_url):
    _campaign_id, ids, bases = two_servers
    clients = [Client(base, email, TEST_PASSWORD) for base, email in zip(bases, REVIEWERS,
                                                                        strict=True)]
    pages = {}
    for handle, account_id in ids.items():
        pages[handle] = _at_once(
            lambda a=account_id: _decide_and_look(clients[0], a, "genuine"),
            lambda a=account_id: _decide_and_look(clients[1], a, "automated"))
    engine = make_engine(postgres_url)
    with Session(engine) as session:
        stored = dict(session.execute(select(ReviewDecision.account_id, ReviewDecision.decision)
                                      .where(ReviewDecision.version == 1)).all())
        assert session.execute(select(func.count()).select_from(ReviewDecision)).scalar() == len(
            ids)
        outcomes = session.execute(select(ReviewAudit.outcome, func.count())
                                   .group_by(ReviewAudit.outcome)).all()
    engine.dispose()
    # One stored change per account (outcome NULL) and one refused one ("lost") beside it.
    assert dict(outcomes) == {None: len(ids), "lost": len(ids)}, outcomes
    for handle, (first, second) in pages.items():
        winner = "genuine" if stored[ids[handle]] == "genuine" else "automated"
        won, lost = (first, second) if winner == "genuine" else (second, first)
        assert f"marked “{winner}”" in won, handle
        assert "Conflict:" in lost and "was already decided" in lost, handle
        assert "your decision was not saved" in lost


def test_approvals_on_two_servers_book_the_last_place_once(two_servers, postgres_url):
    campaign_id, ids, bases = two_servers
    clients = [Client(base, email, TEST_PASSWORD) for base, email in zip(bases, REVIEWERS,
                                                                        strict=True)]

    def approve(client: Client, account_id: int) -> str:
        status, _ = client.post(f"/campaigns/{campaign_id}/decide",
                                {"action": "approve", "account_id": str(account_id)})
        assert status in (302, 303)
        return client.get(f"/campaigns/{campaign_id}")[1]

    first, second = _at_once(lambda: approve(clients[0], ids["ben"]),
                             lambda: approve(clients[1], ids["cai"]))
    engine = make_engine(postgres_url)
    with Session(engine) as session:
        holding = session.execute(select(func.count()).where(
            ShortlistEntry.campaign_id == campaign_id,
            ShortlistEntry.status.in_(allocation.HOLDS_PLACE))).scalar_one()
        approved = session.execute(select(func.count()).where(
            ShortlistEntry.campaign_id == campaign_id,
            ShortlistEntry.status == "approved")).scalar_one()
    engine.dispose()
    assert holding == 2 and approved == 1  # quantity 2: ana offered, one of ben/cai approved
    told = [page for page in (first, second) if "places are taken" in page]
    assert len(told) == 1 and any("1 approved." in page for page in (first, second))
