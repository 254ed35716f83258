"""Every research file in ../shared/data/bots imports unchanged with 0 rejects and exact counts."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import case, func, select

from perks.importing import import_file
from perks.models import Account
from perks.paths import SHARED_BOTS_DIR

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SHARED_BOTS_DIR.is_dir(),
                       reason=f"research datasets not beside this checkout ({SHARED_BOTS_DIR})"),
]

# file, rows, verified rows, (first, last observation day): JSON elements are observed at
# their tweet's created_at, which the manifest gives as the observation time
SHARED_FILES = [
    ("cresci-2017/genuine_accounts/users.csv", 3474, 11, ("2015-05-01", "2015-05-03")),
    ("cresci-2017/social_spambots_1/users.csv", 991, 0, ("2014-04-19", "2014-06-30")),
    ("cresci-2017/social_spambots_2/users.csv", 3457, 0, ("2014-05-01", "2014-05-31")),
    ("cresci-2017/social_spambots_3/users.csv", 464, 0, ("2014-05-01", "2014-05-31")),
    ("cresci-2015/E13/users.csv", 1481, 0, ("2015-02-14", "2015-02-14")),
    ("cresci-2015/INT/users.csv", 1337, 0, ("2015-02-14", "2015-02-14")),
    ("cresci-stock-2018/bot.json", 7102, 1, ("2013-10-09", "2019-05-19")),
    ("cresci-stock-2018/human.json", 6174, 77, ("2010-01-18", "2019-05-19")),
    ("pronbots-2019/bot.json", 17882, None, ("2009-10-25", "2018-03-18")),
]


def _day(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("relative", "rows", "verified", "observed"), SHARED_FILES,
                         ids=[f[0] for f in SHARED_FILES])
def test_shared_file_imports_with_exact_counts(session, relative, rows, verified, observed):
    result = import_file(session, SHARED_BOTS_DIR / relative)
    assert (result.imported, result.updated, result.rejected) == (rows, 0, 0)
    assert result.warnings == []  # every row says when it was observed
    stored = session.execute(select(func.count(), func.sum(case((Account.verified, 1), else_=0)),
                                    func.min(Account.observed_at), func.max(Account.observed_at),
                                    func.count(Account.created_at))).one()
    assert stored[0] == rows and stored[4] == rows  # every account has its creation time
    if verified is not None:
        assert (stored[1] or 0) == verified
    first, last = _day(observed[0]), _day(observed[1]).replace(hour=23, minute=59, second=59)
    assert first <= stored[2].astimezone(UTC) and stored[3].astimezone(UTC) <= last
    older = session.execute(select(func.count()).where(
        Account.created_at > Account.observed_at)).scalar_one()
    assert older == 0


def test_cresci_booleans_and_times_land_as_written(session):
    import_file(session, SHARED_BOTS_DIR / "cresci-2017/genuine_accounts/users.csv")
    account = session.exec(select(Account).where(Account.platform_id == "1502026416")
                           ).scalars().one()
    assert account.created_at == datetime(2013, 6, 11, 11, 20, 35, tzinfo=UTC)
    assert account.observed_at == datetime(2015, 5, 2, 6, 41, 46, tzinfo=UTC)
    assert (account.geo_enabled, account.default_profile, account.verified) == (True, False, False)
    assert account.followers_count == 208 and account.lang == "ja"
