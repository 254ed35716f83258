"""Tenant isolation, enumerated: every route of the URL map (web and API) is called by an
admin of Brand B with Brand A's real ids. Brand data (campaigns, tokens) must answer 404, never
403: a 403 would confirm the id exists. Shared data (the account pool, removal requests) may
answer, but no response may carry Brand A's data (MARKERS). A route with a URL parameter this
test cannot fill fails it, so a new route has to be added to PARAMS."""

import re

from sqlalchemy import select
from sqlmodel import Session

from perks.models import ApiToken, Campaign, ReviewAudit, ShortlistEntry
from tests.security_support import A_EMAIL, B_EMAIL, MARKERS, bearer, build_world, login

NOT_APP_DATA = {"static"}  # files shipped with the package
BRAND = "brand"    # belongs to one brand: another brand gets 404
SHARED = "shared"  # the pool and its removal requests: any brand may see them
PARAMS = {
    "campaign_id": (BRAND, lambda w: w.campaign_id),
    "token_id": (BRAND, lambda w: w.token_id),
    "run_id": (BRAND, lambda w: w.run_id),
    "account_id": (SHARED, lambda w: w.account_id),
    "handle": (SHARED, lambda w: w.handle),
    "request_id": (SHARED, lambda w: w.request_id),
}
# Destructive calls on shared data run last, so they do not hide earlier answers.
LAST = {"privacy.confirm": 1, "privacy.reject": 2, "privacy.forget": 3, "auth.logout": 4}


def _calls(app):
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_APP_DATA:
            continue
        missing = set(rule.arguments) - set(PARAMS)
        assert not missing, f"{rule.rule}: add {sorted(missing)} to PARAMS in {__file__}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((LAST.get(rule.endpoint, 0), method != "GET", rule.rule, method, rule))
    return sorted(calls, key=lambda c: c[:4])


def _url(rule, world) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(PARAMS[m.group(1)][1](world)), rule.rule)


def _form(world) -> dict:
    # Every id a form of ours takes, pointing at Brand A's objects.
    i = world.account_id
    return {"account_id": str(i), "one": f"{i}:automated", f"version_{i}": "0",
            "action": "approve", "confirm": "1", "campaign": str(world.campaign_id),
            "name": "Beta probe", "handle": "ben"}


def _json(world) -> dict:
    return {"account_id": world.account_id, "decision": "automated", "version": 0,
            "name": "Beta probe", "topics": ["coffee"]}


def test_brand_b_gets_404_for_brand_a_objects_on_every_route(db_app):
    app = db_app
    world = build_world(app, b_role="operator")  # the widest role: no role check hides a leak
    client = app.test_client()
    login(client, B_EMAIL)
    checked = {BRAND: 0, SHARED: 0, None: 0}
    for _last, _write, _path, method, rule in _calls(app):
        url = _url(rule, world)
        kinds = {PARAMS[name][0] for name in rule.arguments}
        kind = BRAND if BRAND in kinds else (SHARED if kinds else None)
        api = rule.endpoint.startswith("api.")
        query = {"campaign": world.campaign_id, "campaign_id": world.campaign_id}
        if api:
            response = client.open(url, method=method, headers=bearer(world.b_token),
                                   json=_json(world) if method != "GET" else None,
                                   query_string=query if method == "GET" else None)
        else:
            response = client.open(url, method=method, query_string=query,
                                   data=_form(world) if method != "GET" else None)
        where = (method, url, response.status_code)
        body = response.get_data(as_text=True)
        assert response.status_code < 500, where
        assert response.status_code != 403, where  # B is an operator: nothing is off limits
        for marker in MARKERS:
            assert marker not in body, (*where, marker)
        if kind == BRAND:
            assert response.status_code == 404, where
        elif kind == SHARED:
            assert response.status_code != 404, where
        checked[kind] += 1
    assert checked[BRAND] >= 8 and checked[SHARED] >= 4 and checked[None] >= 15, checked
    with Session(app.extensions["perks_engine"]) as session:  # and Brand A's data is intact
        campaign = session.get(Campaign, world.campaign_id)
        assert campaign.name.startswith("Alpha") and campaign.brand_id != 2
        entries = session.exec(select(ShortlistEntry.status).where(
            ShortlistEntry.campaign_id == world.campaign_id)).scalars().all()
        assert entries and "approved" not in entries and "dropped" not in entries
        # The forget route erased the account and its decisions; the audit keeps A's only one.
        audit = session.exec(select(ReviewAudit.after).where(
            ReviewAudit.brand_id == campaign.brand_id)).scalars().all()
        assert audit == ["genuine"]
        assert session.get(ApiToken, world.token_id).revoked_at is None


def test_the_account_page_shows_only_the_viewers_review_audit(app):
    world = build_world(app)
    client = app.test_client()
    login(client, B_EMAIL)
    page = client.get(f"/accounts/{world.account_id}").get_data(as_text=True)
    assert "@pia" in page and MARKERS[1] not in page
    answer = client.get(f"/api/v1/accounts/{world.handle}", headers=bearer(world.b_token))
    assert answer.get_json()["review"] == {"decision": None, "version": 0}
    own = client.get(f"/api/v1/accounts/{world.handle}", headers=bearer(world.a_token))
    assert own.get_json()["review"] == {"decision": "genuine", "version": 1}


# --- brand lists: an account only Brand A's list holds --------------------------------------

SHORTLISTED = "linnea_listonly"  # clean: on Brand A's shortlist
QUEUED = "lorenzo_listonly"  # flagged: in Brand A's review queue
LIST_MARKERS = (SHORTLISTED, QUEUED)


def _list_only_world(app):
    """build_world, plus two accounts only Brand A's list holds, Brand A's campaign targeting
    the shared pool and its lists, and a Brand B campaign that targets both too."""
    from sqlalchemy import update

    from perks.accounts import lists
    from perks.auth.users import get_or_create_brand
    from perks.campaigns import service
    from perks.importing import import_records
    from perks.models import Account
    from tests.test_campaigns import gen_campaign
    from tests.test_review import CAMPAIGN

    world = build_world(app, b_role="operator")
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        brand_a = get_or_create_brand(session=session, name="Brand A")
        uploads = lists.get_or_create_list(session, brand_id=brand_a.id, name="Alpha uploads")
        row = {"friends_count": 1, "statuses_count": 1, "favourites_count": 1,
               "listed_count": 1, "followers_count": 5000, "lang": "en",
               "topics": {"coffee": 0.95}}
        import_records(session, [(1, {**row, "id": 900, "screen_name": SHORTLISTED}),
                                 (2, {**row, "id": 901, "screen_name": QUEUED})],
                       source_name="upload", account_list_id=uploads.id)
        for handle, bot in ((SHORTLISTED, 0.05), (QUEUED, 0.9)):
            session.execute(update(Account).where(Account.screen_name == handle).values(
                influence_percentile=99.0, influence_score=49.5, bot_probability=bot,
                bot_model_version="1.0+test"))
        campaign_a = session.get(Campaign, world.campaign_id)
        campaign_a.audience = "both"
        session.add(campaign_a)
        campaign_b = gen_campaign(session, brand="Brand B",
                                  **{**CAMPAIGN, "name": "Beta coffee", "audience": "both",
                                     "quantity": 50})
        for campaign in (campaign_a, campaign_b):
            service.refresh(session, campaign)
        session.commit()
        ids = dict(session.execute(select(Account.screen_name, Account.id)).all())
        shared = session.execute(select(Account.id).where(Account.shared.is_(True))
                                 ).scalars().all()
    return world, campaign_b, ids, len(shared)


def _no_list_marker(response, where):
    body = response.get_data(as_text=True)
    for marker in LIST_MARKERS:
        assert marker not in body, (*where, marker)


def test_brand_b_never_sees_brand_a_list_only_accounts_on_any_route(db_app):
    app = db_app
    world, campaign_b, ids, _shared = _list_only_world(app)
    hidden = ids[SHORTLISTED]
    client = app.test_client()
    login(client, B_EMAIL)
    # Every route again, with the list-only account's id and handle where the shared
    # account's went: no answer names it, and a route about that account is a 404.
    world.account_id, world.handle = hidden, SHORTLISTED
    for _last, _write, _path, method, rule in _calls(app):
        url = _url(rule, world)
        api = rule.endpoint.startswith("api.")
        query = {"campaign": campaign_b.id, "campaign_id": campaign_b.id, "q": "listonly"}
        if api:
            response = client.open(url, method=method, headers=bearer(world.b_token),
                                   json=_json(world) if method != "GET" else None,
                                   query_string=query if method == "GET" else None)
        else:
            response = client.open(url, method=method, query_string=query,
                                   data=_form(world) if method != "GET" else None)
        where = (method, url, response.status_code)
        assert response.status_code < 500, where
        _no_list_marker(response, where)
        if {"account_id", "handle"} & set(rule.arguments):
            assert response.status_code == 404, where
    with Session(app.extensions["perks_engine"]) as session:  # nothing of it was touched
        from perks.models import Account, ReviewDecision

        assert session.get(Account, hidden) is not None
        assert not session.exec(select(ReviewDecision).where(
            ReviewDecision.account_id.in_(list(ids[m] for m in LIST_MARKERS)))).all()


def test_brand_b_campaign_counts_shortlist_why_not_queue_and_export_leave_them_out(db_app):
    from perks.campaigns import matching
    from perks.campaigns.schema import FIELDS

    app = db_app
    world, campaign_b, ids, shared = _list_only_world(app)
    client = app.test_client()
    login(client, B_EMAIL)
    b = campaign_b.id
    pages = [f"/campaigns/{b}", f"/campaigns/{b}/export.csv",
             f"/campaigns/{b}/export.csv?kind=analyst",
             f"/review/?campaign={b}", "/review/?state=all", "/review/threshold",
             f"/review/audit/{b}", "/accounts", "/accounts?q=listonly", "/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _no_list_marker(response, (url,))
    # why-not answers as for an account that does not exist (the page echoes the handle typed)
    answer = client.get(f"/campaigns/{b}?handle={SHORTLISTED}").get_data(as_text=True)
    assert f"no account @{SHORTLISTED} in the pool" in answer and QUEUED not in answer
    for url in (f"/api/v1/campaigns/{b}", f"/api/v1/campaigns/{b}/shortlist?per_page=100",
                f"/api/v1/campaigns/{b}/export.csv", "/api/v1/review/queue?state=all",
                f"/api/v1/accounts/{SHORTLISTED}"):
        response = client.get(url, headers=bearer(world.b_token))
        assert response.status_code in (200, 404), url
        _no_list_marker(response, (url,))
    # the funnel counts only what Brand B may see: the shared pool, not A's list
    with Session(app.extensions["perks_engine"]) as session:
        campaign = session.get(Campaign, b)
        funnel = matching.funnel(session, campaign, bot_threshold=0.5)
        assert funnel.pool == shared
    args = {name: getattr(campaign_b, name) for name in FIELDS}
    args = {k: (", ".join(v) if k == "languages" else v) for k, v in args.items()
            if v is not None and v is not False} | {"bot_strictness": "balanced"}
    preview = client.get("/campaigns/preview", query_string={**args, "campaign_id": b})
    assert preview.get_json().get("pool") == shared, preview.get_json()

    # Brand A sees its own list-only accounts: page, shortlist, queue
    login(client, A_EMAIL)
    assert client.get(f"/accounts/{ids[SHORTLISTED]}").status_code == 200
    assert SHORTLISTED in client.get(f"/campaigns/{world.campaign_id}").get_data(as_text=True)
    assert QUEUED in client.get("/review/?state=all").get_data(as_text=True)
    assert SHORTLISTED in client.get("/accounts?q=listonly").get_data(as_text=True)


def test_a_shared_account_stays_visible_to_both_brands(db_app):
    from perks.importing import import_records

    app = db_app
    world, _campaign_b, ids, _shared = _list_only_world(app)
    client = app.test_client()
    for email, token in ((A_EMAIL, world.a_token), (B_EMAIL, world.b_token)):
        login(client, email)
        assert client.get(f"/accounts/{world.account_id}").status_code == 200
        assert client.get(f"/api/v1/accounts/{world.handle}",
                          headers=bearer(token)).status_code == 200
    # once it arrives in the shared pool, the list-only account is everyone's
    with Session(app.extensions["perks_engine"]) as session:
        import_records(session, [(1, {"id": 900, "screen_name": SHORTLISTED,
                                      "followers_count": 5000, "friends_count": 1,
                                      "statuses_count": 1, "favourites_count": 1,
                                      "listed_count": 1})], source_name="shared")
    login(client, B_EMAIL)
    assert client.get(f"/accounts/{ids[SHORTLISTED]}").status_code == 200
