"""The JSON API (/api/v1): tokens (web page and CLI), every operation, the export's bytes,
conflicts, the OpenAPI document against the URL map, and a bounded schemathesis run."""

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select
from sqlmodel import Session

from perks.auth.tokens import hash_token
from perks.models import ApiToken
from perks.web.openapi import document
from tests.conftest import gen_user
from tests.security_support import A_EMAIL, bearer, build_world, login

EXAMPLES = 15  # per operation and mode: the whole run stays well under a minute


@pytest.fixture
def world(app):
    return build_world(app)


def test_the_document_and_the_url_map_list_the_same_operations(app):
    in_map = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    with app.app_context():
        doc = document(app)
    documented = {(path, method) for path, item in doc["paths"].items()
                  for method in item if method != "parameters"}
    assert in_map == documented
    assert all(doc["paths"][path][method]["responses"] for path, method in documented)
    assert {item[method]["operationId"] for path, method in documented
            for item in [doc["paths"][path]]} >= {"listCampaigns", "createCampaign", "decide"}


def test_the_document_is_valid_openapi_built_from_the_shapes(app):
    from openapi_spec_validator import validate

    from perks.web.api_shapes import SHAPES

    with app.app_context():
        doc = document(app)
    validate(doc)  # raises on a document that is not valid OpenAPI 3.1
    assert doc["openapi"].startswith("3.1")
    assert set(doc["components"]["schemas"]) >= {shape.__name__ for shape in SHAPES}
    queue = doc["paths"]["/api/v1/review/queue"]["get"]["parameters"]
    assert {p["name"] for p in queue} == {"page", "per_page", "state", "campaign_id"}


def test_the_api_imports_no_web_view():
    import ast
    import importlib
    from pathlib import Path

    import perks.web.api as api

    tree = ast.parse(Path(api.__file__).read_text())
    imported = {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module.startswith("perks.web.")}
    imported |= {f"perks.web.{alias.name}" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module == "perks.web"
                 for alias in node.names}
    views = {name for name in imported
             if hasattr(importlib.import_module(name), "blueprint")}
    assert imported and not views


def test_a_bad_query_string_names_each_parameter(app, world):
    answer = app.test_client().get(
        f"/api/v1/campaigns/{world.campaign_id}/shortlist?page=0&per_page=x&status=maybe",
        headers=bearer(world.a_token))
    assert answer.status_code == 400
    assert set(answer.get_json()["problems"]) == {"page", "per_page", "status"}


def test_no_token_or_a_bad_one_is_401(app, world):
    client = app.test_client()
    for headers in ({}, bearer("perks_nope"), {"Authorization": "Basic abc"}):
        answer = client.get("/api/v1/campaigns", headers=headers)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith(
            "Bearer")
        assert answer.get_json()["error"] == "Unauthorized"


def test_campaigns_list_create_get_and_shortlist_pages(app, world):
    client, auth = app.test_client(), bearer(world.a_token)
    listed = client.get("/api/v1/campaigns", headers=auth).get_json()
    assert [c["name"] for c in listed["items"]] == ["Alpha secret launch"]
    made = client.post("/api/v1/campaigns", headers=auth, json={
        "name": "Tea week", "topics": ["coffee"], "quantity": 3, "starts_on": "2026-12-01"})
    assert made.status_code == 201 and made.get_json()["starts_on"] == "2026-12-01"
    bad = client.post("/api/v1/campaigns", headers=auth, json={
        "name": "Tea week", "topics": ["coffee"], "quantity": "3"})
    assert bad.status_code == 422
    # One round: the taken name and the string-for-a-number come back together.
    assert bad.get_json()["problems"] == {
        "quantity": "must be a whole number",
        "name": "this brand already has a campaign named 'Tea week'"}
    one = client.get(f"/api/v1/campaigns/{world.campaign_id}", headers=auth).get_json()
    assert one["counts"]["offered"] == 2
    first = client.get(f"/api/v1/campaigns/{world.campaign_id}/shortlist?per_page=1",
                       headers=auth).get_json()
    second = client.get(f"/api/v1/campaigns/{world.campaign_id}/shortlist?per_page=1&page=2",
                        headers=auth).get_json()
    assert first["total"] == second["total"] >= 2 and first["pages"] == first["total"]
    assert first["items"][0]["account_id"] != second["items"][0]["account_id"]
    assert client.get(f"/api/v1/campaigns/{world.campaign_id}/shortlist?page=0",
                      headers=auth).status_code == 400
    assert client.get("/api/v1/campaigns/999", headers=auth).status_code == 404


def test_the_api_export_sends_the_web_download_bytes(app, world):
    client = app.test_client()
    login(client, A_EMAIL)
    for query in ("?kind=all", "?kind=analyst&excel=1", "?all=1&bom=1"):
        web = client.get(f"/campaigns/{world.campaign_id}/export.csv{query}")
        api = client.get(f"/api/v1/campaigns/{world.campaign_id}/export.csv{query}",
                         headers=bearer(world.a_token))
        assert api.status_code == 200 and api.mimetype == "text/csv"
        assert api.data == web.data and api.data.count(b"\n") >= 3


def test_account_lookup_and_review_decisions_with_conflicts(app, world):
    client, auth = app.test_client(), bearer(world.a_token)
    account = client.get("/api/v1/accounts/@MAX", headers=auth).get_json()
    assert account["handle"] == "max" and account["review"] == {"decision": None, "version": 0}
    assert client.get("/api/v1/accounts/nobody", headers=auth).status_code == 404
    queue = client.get("/api/v1/review/queue", headers=auth).get_json()
    assert [i["screen_name"] for i in queue["items"]] == ["max", "ola", "rex"]  # pia decided
    body = {"account_id": world.ids["max"], "decision": "automated", "version": 0}
    first = client.post("/api/v1/review/decisions", headers=auth, json=body)
    assert first.status_code == 200 and first.get_json()["version"] == 1
    late = client.post("/api/v1/review/decisions", headers=auth, json={**body,
                                                                        "decision": "genuine"})
    assert late.status_code == 409
    assert late.get_json()["current"] == {"decision": "automated", "version": 1}
    assert client.post("/api/v1/review/decisions", headers=auth,
                       json={**body, "account_id": 99999}).status_code == 404
    assert client.post("/api/v1/review/decisions", headers=auth, data="x").status_code == 415
    assert client.get(f"/api/v1/review/queue?campaign_id={world.campaign_id}&state=decided",
                      headers=auth).get_json()["total"] == 2
    assert client.get("/api/v1/review/queue?state=nope", headers=auth).status_code == 400


def test_tokens_page_shows_a_token_once_and_revokes(app, world):
    client = app.test_client()
    login(client, A_EMAIL)
    page = client.post("/settings/tokens", data={"name": "nightly"}).get_data(as_text=True)
    secret = re.search(r"(perks_[A-Za-z0-9_-]{40,})", page).group(1)
    assert "not shown again" in page
    assert secret not in client.get("/settings/tokens").get_data(as_text=True)
    with Session(app.extensions["perks_engine"]) as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == "nightly")).scalars().one()
        assert row.token_hash == hash_token(secret) and secret not in str(row.model_dump())
    assert client.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 200
    with Session(app.extensions["perks_engine"]) as session:
        assert session.get(ApiToken, row.id).last_used_at is not None
    assert client.post(f"/settings/tokens/{row.id}/revoke").status_code == 302
    assert client.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 401


def test_token_cli_creates_lists_and_revokes(app, world):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["token", "create", A_EMAIL, "--name", "cron"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    client = app.test_client()
    assert client.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 200
    listed = runner.invoke(args=["token", "list", A_EMAIL])
    token_id = next(line.split("\t")[0] for line in listed.output.splitlines()
                    if "\tcron\t" in line)
    assert secret not in listed.output
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 401
    assert runner.invoke(args=["token", "create", "nobody@x.example", "--name", "n"]).exit_code


def test_a_deactivated_user_token_stops_working(app, world):
    from perks.models import User

    with Session(app.extensions["perks_engine"]) as session:
        user = session.exec(select(User).where(User.email == A_EMAIL)).scalars().one()
        user.is_active = False
        session.commit()
    assert app.test_client().get("/api/v1/campaigns",
                                 headers=bearer(world.a_token)).status_code == 401


def test_schemathesis_against_the_document(app):
    """Bounded: a few examples per operation, as a manager; answers must match the document
    and never be a server error."""
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    world = build_world(app)
    gen_user(app, email="max@brand-a.example", role="manager")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    headers = bearer(world.a_token)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation, mode in itertools.product(operations, GenerationMode):
        # Positive cases must match the document; negative ones must at least not crash.
        wanted = checks if mode.value == "positive" else [not_a_server_error]
        _fuzz(operation.as_strategy(generation_mode=mode), headers, wanted)


def _fuzz(strategy, headers, checks) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    run()
