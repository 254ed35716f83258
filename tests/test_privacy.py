"""Privacy: the hostile pool, the minors heuristic, suppression, forget, opt-out, removal
requests (public form, rate limit, admin confirm) and the CLI."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from perks.campaigns import allocation, matching, why_not
from perks.campaigns.export import export_csv
from perks.importing import import_file, import_records
from perks.models import (
    Account,
    AccountTopic,
    ImportRun,
    RemovalRequest,
    ReviewAudit,
    ShortlistEntry,
    Suppression,
)
from perks.privacy import forget_account, is_suppressed, probable_minor, suppress
from perks.privacy.minors import minor_evidence
from perks.privacy.optout import read_handles
from perks.privacy.removal import pending_requests, submit_removal
from tests.test_campaigns import gen_campaign

OBSERVED = datetime(2025, 3, 1, tzinfo=UTC)
THIS_YEAR = datetime.now(UTC).year

# Every hostile row is a perfect match for COFFEE except for one privacy fact.
HOSTILE = {
    "locked": {"protected": True},
    "kid": {"is_minor": True},
    "born": {"birth_year": THIS_YEAR - 15},
    "teenbio": {"description": "14 y/o coffee lover ☕"},
    "grader": {"description": "8th grade | latte art"},
    "saidno": {"consent": "opted_out"},
    "gone": {},  # suppressed before the import: never stored
}
FRIENDLY = {
    "ana": {"description": "barista, coffee nerd", "consent": "opted_in"},
    "ben": {},
    "mom": {"description": "mom of a 14 y/o, coffee addict"},  # a near miss: stays eligible
}


def _rows(pool: dict) -> list[dict]:
    rows = []
    for i, (handle, extra) in enumerate(pool.items(), start=1):
        rows.append({"id": str(1000 + i), "screen_name": handle, "name": handle.title(),
                     "followers_count": 1000, "friends_count": 1, "statuses_count": 1,
                     "favourites_count": 1, "listed_count": 1, "lang": "en",
                     "location": "Milano", "topics": {"coffee": 0.9},
                     "observed_at": OBSERVED.isoformat(), **extra})
    return rows


def gen_hostile_pool(session: Session, path=None):
    """Import FRIENDLY + HOSTILE (from `path` as JSONL when given) with "gone" suppressed."""
    suppress(session=session, platform="twitter", handle="gone", actor="test")
    session.commit()
    rows = _rows({**FRIENDLY, **HOSTILE})
    if path is not None:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        result = import_file(session, path)
    else:
        result = import_records(session, enumerate(rows, 1), source_name="hostile")
    session.execute(update(Account).values(influence_percentile=90, influence_score=45,
                                           bot_probability=0.1))
    session.commit()
    return result


def _handles(session: Session, ids) -> set[str]:
    return set(session.execute(select(Account.screen_name).where(Account.id.in_(ids))).scalars())


def test_hostile_pool_never_reaches_shortlist_export_or_store(session):
    result = gen_hostile_pool(session)
    assert result.suppressed == 1 and result.imported == len(FRIENDLY) + len(HOSTILE) - 1
    assert session.execute(select(ImportRun.suppressed)).scalar() == 1
    assert not session.execute(select(Account).where(Account.screen_name == "gone")).first()
    campaign = gen_campaign(session, quantity=20)
    ranked = matching.ranked_shortlist(session, campaign, bot_threshold=0.5, limit=50)
    assert _handles(session, [r.account_id for r in ranked]) == set(FRIENDLY)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    session.commit()
    rows = list(csv.DictReader(io.StringIO("".join(
        export_csv(session, campaign, kind="all")))))
    assert {r["handle"] for r in rows} == set(FRIENDLY)
    assert "bio" not in rows[0] and "location" not in rows[0]  # not asked for
    funnel = matching.funnel(session, campaign, bot_threshold=0.5)
    privacy = {s.key: s.removed for s in funnel.stages}["privacy"]
    rules = {r.key: r.removed for r in funnel.privacy_rules}
    assert rules == {"protected": 1, "minor": 2, "probable_minor": 2, "opted_out": 1,
                     "not_opted_in": 0}
    assert privacy == sum(rules.values()) == len(HOSTILE) - 1
    assert "gone" not in json.dumps(funnel.as_dict())


def test_opted_in_only_campaign_and_bio_location_export(session):
    gen_hostile_pool(session)
    campaign = gen_campaign(session, quantity=20, opted_in_only=True, export_bio_location=True)
    funnel = matching.funnel(session, campaign, bot_threshold=0.5)
    assert {r.key: r.removed for r in funnel.privacy_rules}["not_opted_in"] == 2
    allocation.refresh(session, campaign, bot_threshold=0.5)
    rows = list(csv.DictReader(io.StringIO("".join(export_csv(session, campaign, kind="all")))))
    assert [(r["handle"], r["bio"], r["location"]) for r in rows] == [
        ("ana", "barista, coffee nerd", "Milano")]
    why = why_not.why_not(session, campaign, "ben", bot_threshold=0.5)
    assert (why.stage, why.reason) == ("privacy", "consent unknown: this campaign is opted-in only")


@pytest.mark.parametrize(("handle", "reason"), [
    ("teenbio", "probably a minor (bio says “14 y/o”): perks never shortlists minors"),
    ("born", "a minor: perks never shortlists minors"),
    ("gone", "no account @gone in the pool"),
])
def test_why_not_explains_privacy_without_naming_suppressed(session, handle, reason):
    gen_hostile_pool(session)
    campaign = gen_campaign(session)
    assert why_not.why_not(session, campaign, handle, bot_threshold=0.5).reason == reason


def test_export_drops_an_approved_account_that_later_opts_out(session):
    gen_hostile_pool(session)
    campaign = gen_campaign(session, quantity=20)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    ana = session.execute(select(Account.id).where(Account.screen_name == "ana")).scalar()
    allocation.approve(session, campaign, [ana])
    session.execute(update(Account).where(Account.id == ana).values(consent="opted_out"))
    session.commit()
    rows = list(csv.DictReader(io.StringIO("".join(export_csv(session, campaign)))))
    assert "ana" not in {r["handle"] for r in rows}


def test_forget_erases_derived_rows_and_reimport_keeps_it_gone(session, tmp_path):
    from perks.auth.users import get_or_create_brand

    path = tmp_path / "pool.jsonl"
    gen_hostile_pool(session, path)
    campaign = gen_campaign(session, quantity=20)
    allocation.refresh(session, campaign, bot_threshold=0.5)
    ana = session.execute(select(Account.id).where(Account.screen_name == "ana")).scalar()
    brand = get_or_create_brand(session=session, name="Brand A")
    session.add(ReviewAudit(brand_id=brand.id, account_id=ana, account_label="@ana",
                            after="genuine", note="@ana is a real barista"))
    session.commit()

    result = forget_account(session=session, handle="@ANA", actor="dpo@brand-a.example")
    session.commit()
    assert result.accounts == 1 and result.suppressed_keys == 3  # id, handle, handle anywhere
    assert result.erased["account_topic"] == 1 and result.erased["shortlist_entry"] == 1
    assert session.execute(select(func.count()).where(AccountTopic.account_id == ana)
                           ).scalar() == 0
    assert session.execute(select(func.count()).where(ShortlistEntry.account_id == ana)
                           ).scalar() == 0
    stub = session.execute(select(ReviewAudit.account_id, ReviewAudit.account_label,
                                  ReviewAudit.note, ReviewAudit.after)).one()
    assert tuple(stub) == (None, "forgotten account", None, "genuine")
    # The freed place went to the wait list's best; here nobody waits, so just fewer offers.
    assert allocation.status_counts(session, campaign)["offered"] == len(FRIENDLY) - 1
    # No clear-text handle or id anywhere in the suppression list.
    stored = " ".join(k for k, in session.execute(select(Suppression.key_hash)))
    assert "ana" not in stored and "1001" not in stored

    again = import_file(session, path)
    assert again.suppressed == 2 and again.imported == 0  # ana and gone
    assert not session.execute(select(Account).where(Account.screen_name == "ana")).first()
    # A renamed account is still caught by its id; a new handle on its own by the handle key.
    assert is_suppressed(session=session, platform_id="1001")
    assert is_suppressed(session=session, handle="Ana")


def test_forgetting_an_unknown_handle_still_suppresses_it(session):
    result = forget_account(session=session, handle="stranger", actor="test")
    session.commit()
    assert result.accounts == 0 and result.suppressed_keys == 1
    imported = import_records(session, enumerate(_rows({"stranger": {}}), 1), source_name="t")
    assert (imported.imported, imported.suppressed) == (0, 1)


# --- the probable-minor heuristic ---------------------------------------------------------

@pytest.mark.parametrize(("bio", "phrase"), [
    ("14 y/o", "14 y/o"),
    ("15yo gamer", "15yo"),
    ("just a 14 year old who loves art", "14 year old"),
    ("Lover of music, 16 y.o.", "16 y.o."),
    ("im 13", "im 13"),
    ("i'm 16 and love coffee", "i'm 16"),
    ("I am a teenager", "I am a teenager"),
    ("age: 15", "age: 15"),
    ("8th grade", "8th grade"),
    ("9th grader | soccer", "9th grader"),
    ("grade 10 🏀", "grade 10"),
    ("high school freshman", "high school freshman"),
    ("Senior in high school", "Senior in high school"),
    ("class of 2027", "class of 2027"),
    ("c/o '28 🎓", "c/o '28"),
    ("ho 14 anni 🇮🇹", "ho 14"),
    ("terza media", "terza media"),
    ("tengo 15 años", "tengo 15"),
    ("j'ai 14 ans", "j'ai 14"),
])
def test_bio_reads_like_a_minor(bio, phrase):
    assert minor_evidence(bio, observed_at=OBSERVED) == phrase


@pytest.mark.parametrize("bio", [
    "mom of a 14 y/o",
    "proud parent of a 15yo",
    "my 14yo is obsessed with matcha",
    "teacher of 8th grade",
    "8th grade teacher",
    "High school teacher",
    "I teach middle school",
    "dad of two teens",
    "class of 1998",
    "class of 2027 parent",
    "coding since age 14",
    "when i was 14 i started roasting",
    "14 years of experience in coffee",
    "lavoro da 14 anni",
    "14 anni di esperienza",
    "im 15 minutes from the beach",
    "im 14k followers away",
    "25 y/o",
    "",
    None,
])
def test_near_misses_are_not_minors(bio):
    assert not probable_minor(bio, observed_at=OBSERVED)


def test_class_of_needs_the_observation_time():
    assert not probable_minor("class of 2027")
    assert probable_minor("class of 2029", observed_at=OBSERVED)  # four years out
    assert not probable_minor("class of 2030", observed_at=OBSERVED)
    assert not probable_minor("class of 2025", observed_at=datetime(2025, 9, 1, tzinfo=UTC))


# --- opt-out lists ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "handles", "invalid"), [
    ("@ana\n\n# a comment\nben\n", ["ana", "ben"], []),
    ("screen_name,platform\nana,twitter\n,twitter\nhttps://x.com/ben\n",
     ["ana", "ben"], [3]),
    ("id,handle\n1,ana\n2,bad handle!\n", ["ana"], [3]),
])
def test_read_handles_accepts_lists_and_csv(text, handles, invalid):
    found, bad = read_handles(text)
    assert [h for _line, _platform, h in found] == handles and bad == invalid


# --- removal requests, web and CLI --------------------------------------------------------

def test_removal_requests_keep_no_handle_contact_or_address_in_clear(session):
    for ip in ("10.0.0.1", "10.0.0.2"):
        submit_removal(session=session, handle="ana", client_ip=ip, secret="s" * 20,
                       contact_email="ana@example.org")
    session.commit()
    rows = session.execute(select(RemovalRequest)).scalars().all()
    stored = " ".join(f"{r.handle} {r.contact_email} {r.client_hash}" for r in rows)
    assert len({r.client_hash for r in rows}) == 2
    assert "10.0.0" not in stored and "ana" not in stored
    assert [(p.handle, p.contact_email) for p in pending_requests(
        session=session, secret="s" * 20)] == [("ana", "ana@example.org")] * 2
    # Sealed under another key: unreadable, so it can only be rejected.
    assert {p.handle for p in pending_requests(session=session, secret="t" * 20)} == {None}


@pytest.fixture
def privacy_app(sqlite_url, tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(sqlite_url, tmp_path, RATE_LIMITS={"removal": 3})
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        gen_hostile_pool(session)
    yield app
    app.extensions["perks_engine"].dispose()


def _session(app) -> Session:
    return Session(app.extensions["perks_engine"], expire_on_commit=False)


def test_public_form_works_without_login_and_is_rate_limited(privacy_app):
    client = privacy_app.test_client()
    assert b"Ask to be removed" in client.get("/removal").data
    for handle in ("@ana", "https://x.com/ben", "nobody"):
        response = client.post("/removal", data={"handle": handle})
        assert response.status_code == 200 and b"Request received" in response.data
    response = client.post("/removal", data={"handle": "mom"})
    assert response.status_code == 429 and b"Too many requests" in response.data
    with _session(privacy_app) as session:
        assert sorted(p.handle for p in pending_requests(
            session=session, secret=privacy_app.config["SECRET_KEY"])) == ["ana", "ben", "nobody"]
    bad = client.post("/removal", data={"handle": "", "contact_email": "nope"})
    assert bad.status_code == 200 and b"Not an email address." in bad.data


def _login(app, role):
    from tests.conftest import AuthActions, gen_user

    email = gen_user(app, email=f"{role}@brand-a.example", role=role)
    client = app.test_client()
    AuthActions(client).login(email)
    return client


def test_operator_confirm_forgets_and_clears_the_request(privacy_app):
    privacy_app.test_client().post("/removal", data={"handle": "@ana",
                                                     "contact_email": "ana@example.org"})
    client = _login(privacy_app, "operator")
    page = client.get("/privacy/requests").data.decode()
    assert "@ana" in page and "ana@example.org" in page
    with _session(privacy_app) as session:
        request_id = session.execute(select(RemovalRequest.id)).scalar()
    response = client.post(f"/privacy/requests/{request_id}/confirm")
    assert response.status_code == 302
    with _session(privacy_app) as session:
        assert not session.execute(select(Account).where(Account.screen_name == "ana")).first()
        assert is_suppressed(session=session, handle="ana")
        row = session.get(RemovalRequest, request_id)
        assert (row.status, row.handle, row.contact_email) == ("confirmed", None, None)
    assert "No pending requests." in client.get("/privacy/requests").data.decode()


def test_operator_forgets_from_the_account_page(privacy_app):
    client = _login(privacy_app, "operator")
    with _session(privacy_app) as session:
        ben = session.execute(select(Account.id).where(Account.screen_name == "ben")).scalar()
    unconfirmed = client.post(f"/privacy/accounts/{ben}/forget")
    assert unconfirmed.headers["Location"].endswith(f"/accounts/{ben}")  # nothing erased yet
    assert client.post(f"/privacy/accounts/{ben}/forget",
                       data={"confirm": "on"}).status_code == 302
    with _session(privacy_app) as session:
        assert session.get(Account, ben) is None


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_only_an_operator_decides_requests_or_forgets(privacy_app, role):
    privacy_app.test_client().post("/removal", data={"handle": "@ana"})
    client = _login(privacy_app, role)
    with _session(privacy_app) as session:
        request_id = session.execute(select(RemovalRequest.id)).scalar()
        ben = session.execute(select(Account.id).where(Account.screen_name == "ben")).scalar()
    assert client.get("/privacy/requests").status_code == 403
    assert client.post(f"/privacy/requests/{request_id}/confirm").status_code == 403
    assert client.post(f"/privacy/requests/{request_id}/reject").status_code == 403
    assert client.post(f"/privacy/accounts/{ben}/forget").status_code == 403
    anonymous = privacy_app.test_client()
    assert anonymous.post(f"/privacy/requests/{request_id}/confirm").status_code == 302
    with _session(privacy_app) as session:
        assert session.get(RemovalRequest, request_id).status == "pending"
        assert session.get(Account, ben) is not None


def test_cli_forget_optout_and_account_answer_nothing_for_suppressed(privacy_app, tmp_path):
    runner = privacy_app.test_cli_runner()
    result = runner.invoke(args=["forget", "@ben", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accounts"] == 1
    listing = tmp_path / "optout.csv"
    listing.write_text("screen_name\nmom\nsomeone_new\n", encoding="utf-8")
    result = runner.invoke(args=["optout", str(listing), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"handles": 2, "accounts_erased": 1,
                                         "newly_suppressed": 2, "invalid_lines": []}
    for handle in ("ben", "mom", "gone"):
        answer = runner.invoke(args=["account", handle, "--json"])
        assert answer.exit_code != 0 and "no account" in answer.output
    text = runner.invoke(args=["forget", "nobody-here"])
    assert "was not stored; it is suppressed" in text.output
