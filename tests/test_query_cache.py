"""The funnel's in-process cache: reused while the database is unchanged, never stale after a
write (this session's or another connection's), never kept from uncommitted writes; and a GET
of the campaign page still writes nothing (tests/test_reads.py covers every route)."""

from datetime import date

from sqlalchemy import update
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.campaigns import matching, query_cache
from perks.campaigns.store import create_campaign
from perks.db import data_version
from perks.importing import import_records
from perks.models import Account

TODAY = date(2026, 12, 1)


def _pool(session: Session):
    rows = [{"id": i, "screen_name": f"acct{i}", "followers_count": 100, "friends_count": 1,
             "statuses_count": 1, "favourites_count": 1, "listed_count": 1,
             "topics": {"coffee": 0.9}} for i in range(1, 7)]
    import_records(session, enumerate(rows, 1), source_name="cache")
    session.execute(update(Account).values(influence_percentile=80.0, influence_score=50.0,
                                           bot_probability=0.01))
    brand = get_or_create_brand(session=session, name="Brand A")
    campaign = create_campaign(session=session, brand_id=brand.id, data={
        "name": "Cache", "topics": ["coffee"], "score_min": 50.0, "quantity": 10})
    session.commit()
    return campaign


def _eligible(session: Session, campaign) -> int:
    return matching.funnel(session, campaign, bot_threshold=0.5, today=TODAY).eligible


def test_the_funnel_follows_every_committed_write(session, db_app):
    campaign = _pool(session)
    assert _eligible(session, campaign) == 6
    first = matching.funnel(session, campaign, bot_threshold=0.5, today=TODAY)
    first.stages.clear()  # a caller changing its copy does not change the cache
    assert _eligible(session, campaign) == 6
    # this session's own write
    session.execute(update(Account).where(Account.screen_name == "acct1")
                    .values(influence_percentile=10.0))
    session.commit()
    assert _eligible(session, campaign) == 5
    # another connection's write
    with Session(session.get_bind()) as other:
        other.execute(update(Account).where(Account.screen_name == "acct2")
                      .values(consent="opted_out"))
        other.commit()
    assert _eligible(session, campaign) == 4
    uncached = matching.count_funnel(session, campaign, bot_threshold=0.5, today=TODAY)
    assert matching.funnel(session, campaign, bot_threshold=0.5, today=TODAY) == uncached


def test_uncommitted_writes_are_counted_and_never_kept(session, db_app):
    campaign = _pool(session)
    assert _eligible(session, campaign) == 6
    session.execute(update(Account).values(protected=True))
    assert data_version(session) is None
    assert _eligible(session, campaign) == 0
    session.rollback()
    assert _eligible(session, campaign) == 6


def test_an_edited_campaign_or_another_day_is_another_key(session, db_app):
    campaign = _pool(session)
    assert _eligible(session, campaign) == 6
    campaign.score_min = 90.0  # a draft's values, not saved: the preview's case
    assert _eligible(session, campaign) == 0
    key = query_cache.campaign_key(campaign)
    assert query_cache.campaign_key(campaign) == key
    assert matching.funnel(session, campaign, bot_threshold=0.5,
                           today=date(2026, 12, 2)).eligible == 0


def test_two_databases_in_one_process_never_share_counts(tmp_path, sqlite_template):
    """Fresh databases start at equal data versions, and the same campaign values may be asked
    of both: the cache key must name the database."""
    import shutil

    from perks.db import make_engine

    counts, campaign = [], None
    for name, protected in (("a.db", False), ("b.db", True)):
        shutil.copy(sqlite_template, tmp_path / name)
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        with Session(engine, expire_on_commit=False) as session:
            stored = _pool(session)
            campaign = campaign or stored  # the first database's campaign values, asked of both
            if protected:
                session.execute(update(Account).values(protected=True))
                session.commit()
            counts.append(_eligible(session, campaign))
        engine.dispose()
    assert counts == [6, 0]
