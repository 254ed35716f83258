"""Two app servers deciding at once on PostgreSQL never double-book a perk: approving takes the
campaign's row lock, so a second approval for the last free place waits for the first and then
finds the place taken."""

import threading
import time

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from perks.campaigns import allocation, service
from perks.db import make_engine
from perks.models import Campaign, ShortlistEntry
from tests.test_campaigns import gen_campaign, gen_pool


@pytest.fixture
def pg_engine(postgres_url):
    engine = make_engine(postgres_url)
    from tests.conftest import _truncate_all

    _truncate_all(engine)
    yield engine
    engine.dispose()


def _holding(session: Session, campaign_id: int) -> int:
    return session.execute(select(func.count()).where(
        ShortlistEntry.campaign_id == campaign_id,
        ShortlistEntry.status.in_(allocation.HOLDS_PLACE))).scalar_one()


def one_free_place(session: Session) -> tuple[dict[str, int], int]:
    """The test pool and a campaign of 2 places with one free and two accounts (ben, cai)
    waiting for it: (account ids by handle, campaign id). Committed."""
    ids = gen_pool(session)
    campaign = gen_campaign(session)  # quantity 2: ana and ben offered, cai waits
    service.refresh(session, campaign)
    session.execute(update(ShortlistEntry).where(
        ShortlistEntry.campaign_id == campaign.id,
        ShortlistEntry.account_id == ids["ben"]).values(status="waitlist"))
    session.commit()
    return ids, campaign.id


def test_two_approvals_for_the_last_place_book_it_once(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as session:
        ids, campaign_id = one_free_place(session)
    first_holds_lock, outcomes = threading.Event(), {}

    def approve(name: str, account_id: int, hold: bool) -> None:
        with Session(pg_engine, expire_on_commit=False) as session:
            found = session.get(Campaign, campaign_id)
            try:
                allocation.approve(session, found, [account_id])
                if hold:
                    first_holds_lock.set()
                    time.sleep(0.5)  # the other server's approval arrives meanwhile
                session.commit()
                outcomes[name] = "approved"
            except allocation.AllocationError as error:
                session.rollback()
                outcomes[name] = str(error)

    first = threading.Thread(target=approve, args=("first", ids["ben"], True))
    first.start()
    assert first_holds_lock.wait(10)
    second = threading.Thread(target=approve, args=("second", ids["cai"], False))
    second.start()
    first.join(10)
    second.join(10)
    assert outcomes["first"] == "approved"
    assert "places are taken" in outcomes["second"]
    with Session(pg_engine) as session:
        assert _holding(session, campaign_id) == 2
