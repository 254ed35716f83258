"""Tenant isolation, enumerated: every route of the URL map (web and API) is called by an
admin of Brand B with Brand A's real ids. Brand data (campaigns, tokens) must answer 404, never
403: a 403 would confirm the id exists. Shared data (the account pool, removal requests) may
answer, but no response may carry Brand A's data (MARKERS). A route with a URL parameter this
test cannot fill fails it, so a new route has to be added to PARAMS."""

import re

from sqlalchemy import select
from sqlmodel import Session

from perks.models import ApiToken, Campaign, ReviewAudit, ShortlistEntry
from tests.security_support import B_EMAIL, MARKERS, bearer, build_world, login

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
