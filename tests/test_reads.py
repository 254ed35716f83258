"""Reads never write: GETting every route of the URL map (web pages as Brand A's admin with
Brand A's real ids and the query strings the pages take, API resources with a token) leaves
every table's rows exactly as they were. A route with a URL parameter this test cannot fill
fails it, as in the isolation test."""

import json
import re

from sqlalchemy import select
from sqlmodel import Session

from perks.campaigns.store import create_campaign
from perks.models import SQLModel
from tests.security_support import A_EMAIL, bearer, build_world, login
from tests.test_isolation import NOT_APP_DATA, PARAMS

# The one bookkeeping write a read may make: when a token was last used (shown on the tokens
# page). It is not data a brand reads back as content, and perks.tokens keeps it best-effort.
BOOKKEEPING = {("api_token", "last_used_at")}
QUERIES = ({}, {"handle": "pia"}, {"handle": "ben", "status": "offered", "sort": "relevance"},
           {"page": "2", "per_page": "5", "state": "all", "q": "p"})


def _dump(engine) -> dict[str, list]:
    dump = {}
    with Session(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in BOOKKEEPING]
            rows = session.execute(select(*columns)).all()
            dump[table.name] = sorted(json.dumps(list(r), default=str, sort_keys=True)
                                      for r in rows)
    return dump


def test_getting_every_route_writes_nothing(db_app):
    app = db_app
    world = build_world(app)
    client = app.test_client()
    login(client, A_EMAIL)
    engine = app.extensions["perks_engine"]
    with Session(engine) as session:  # a campaign whose shortlist was never built
        unbuilt = create_campaign(session=session, brand_id=1, data={
            "name": "Not built yet", "topics": ["coffee"], "quantity": 2})
        session.commit()
        unbuilt_id = unbuilt.id
    before = _dump(engine)
    assert before["shortlist_entry"], "the world has a stored shortlist to keep still"
    visited = 0
    for campaign_id in (world.campaign_id, unbuilt_id):
        world.campaign_id = campaign_id
        visited += _get_every_route(app, client, world)
    assert visited >= 2 * 4 * 20
    after = _dump(engine)
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"GET requests changed the rows of {changed}"


def _get_every_route(app, client, world) -> int:
    visited = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_APP_DATA or "GET" not in rule.methods:
            continue
        missing = set(rule.arguments) - set(PARAMS)
        assert not missing, f"{rule.rule}: add {sorted(missing)} to PARAMS in test_isolation"
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(PARAMS[m.group(1)][1](world)), rule.rule)
        if rule.endpoint == "auth.logout":
            continue  # ends this client's session, so the rest would only see the login page
        for query in QUERIES:
            headers = bearer(world.a_token) if rule.endpoint.startswith("api.") else None
            response = client.get(url, query_string=query, headers=headers)
            assert response.status_code < 500, (url, query, response.status_code)
            response.close()
            visited += 1
    return visited
