"""The campaign schema and its doors: the web form, `perks campaign create`, the API and the
OpenAPI document agree with perks.campaigns.schema on every field's default and limits, and
each door refuses an out-of-range value naming the field. Expected values come from the
schema, so a limit changed there is checked everywhere."""

import json
import re
from html import unescape

import pytest
from pydantic_core import PydanticUndefined

from perks.campaigns.cli_options import flag
from perks.campaigns.forms import CampaignForm
from perks.campaigns.schema import FIELDS, default, door, limits, split_list
from perks.cli.campaigns import campaign_group
from perks.web.openapi import document
from tests.conftest import AuthActions, gen_token, gen_user

BOUNDED = [name for name in FIELDS if {"ge", "le"} & set(limits(name))]
WITH_DEFAULT = [name for name in FIELDS if not FIELDS[name].is_required()]
MINIMAL = {"name": "Schema week", "topics": ["coffee"]}


@pytest.fixture
def doors(app):
    """A logged-in manager's web client, the CLI runner and an API token of the same brand."""
    gen_user(app)
    client = app.test_client()
    AuthActions(client).login()
    return client, app.test_cli_runner(), {"Authorization": f"Bearer {gen_token(app)}"}


def _outside(name: str) -> list[float | int]:
    """A value just below the lower and just above the upper limit (whole for int fields)."""
    bounds, step = limits(name), 1
    return [*([bounds["ge"] - step] if "ge" in bounds else []),
            *([bounds["le"] + step] if "le" in bounds else [])]


def _form_post(**changes) -> dict:
    data = {"name": "Schema week", "topics": ["coffee"], "quantity": "3",
            "min_topic_weight": "0.3", "score_min": "0", "score_max": "100",
            "topic_mode": "any", "score_mode": "percentile", "bot_strictness": "balanced"}
    return {**data, **changes}


def test_every_field_has_a_label_and_a_hint():
    for name, info in FIELDS.items():
        assert info.title and info.description, name


def test_the_form_starts_from_the_schema_defaults(app):
    with app.test_request_context():
        form = CampaignForm(topic_choices=[("coffee", "Coffee")])
        for name in WITH_DEFAULT:
            value = form[name].data
            assert (split_list(value) if door(name).widget == "codes" else value) \
                == default(name), name
            assert str(form[name].label.text) == FIELDS[name].title


def test_the_cli_options_carry_the_schema_defaults(app):
    create = campaign_group.get_command(None, "create")
    params = {p.name: p for p in create.params}
    assert set(FIELDS) <= set(params)
    for name in FIELDS:
        option = params[name]
        assert option.required is FIELDS[name].is_required(), name
        if name in WITH_DEFAULT:
            value = option.default
            expected = default(name)
            assert (split_list(value) if isinstance(expected, list) else value) == expected, name
    shown = " ".join(app.test_cli_runner().invoke(
        args=["campaign", "create", "--help"]).output.split())  # undo click's wrapping
    for name in WITH_DEFAULT:
        if default(name) not in (None, "", []) and not isinstance(default(name), bool):
            shown_default = re.search(rf"{flag(name)}\b.*?\[default: ([^\]]*)\]", shown)
            assert shown_default.group(1) == str(default(name)), name
    for name in ("opted_in_only", "export_bio_location", "one_per_person"):
        assert flag(name) in shown


def test_the_api_and_its_document_fill_in_the_schema_defaults(app, doors):
    _client, _runner, auth = doors
    made = app.test_client().post("/api/v1/campaigns", headers=auth, json=MINIMAL)
    assert made.status_code == 201, made.get_json()
    with app.app_context():
        described = document(app)["components"]["schemas"]["CampaignFields"]
    assert set(described["properties"]) == set(FIELDS)
    assert set(described["required"]) == {n for n in FIELDS if FIELDS[n].is_required()}
    for name in WITH_DEFAULT:
        expected = json.loads(json.dumps(default(name), default=str))
        assert made.get_json()[name] == expected, name
        assert described["properties"][name]["default"] == expected, name


def test_the_document_states_the_schema_limits(app):
    with app.app_context():
        properties = document(app)["components"]["schemas"]["CampaignFields"]["properties"]
    keywords = {"ge": "minimum", "le": "maximum", "min_length": "minItems",
                "max_length": "maxItems"}
    for name in FIELDS:
        described = properties[name]
        # optional fields are anyOf [the type, null]; the limits sit on the type
        described = next((s for s in described.get("anyOf", []) if s.get("type") != "null"),
                         described)
        for key, value in limits(name).items():
            word = keywords[key] if described.get("type") == "array" or key in ("ge", "le") \
                else {"min_length": "minLength", "max_length": "maxLength"}[key]
            assert described[word] == value, (name, key)


@pytest.mark.parametrize("name", BOUNDED)
def test_each_door_refuses_a_value_out_of_range_naming_the_field(app, doors, name):
    client, runner, auth = doors
    label = FIELDS[name].title
    for value in _outside(name):
        words = "must be at least" if value < limits(name).get("ge", value + 1) \
            else "must be at most"
        page = unescape(client.post("/campaigns/new",
                                    data=_form_post(**{name: str(value)})).data.decode())
        assert f"{label}: {words}" in page, (name, value)
        result = runner.invoke(args=["campaign", "create", "--brand", "Brand A",
                                     "--name", f"cli {name} {value}", "--topics", "coffee",
                                     flag(name), str(value)])
        assert result.exit_code == 1 and f"{flag(name)}: {words}" in result.output, result.output
        answer = app.test_client().post("/api/v1/campaigns", headers=auth,
                                        json={**MINIMAL, name: value})
        assert answer.status_code == 422
        assert answer.get_json()["problems"][name].startswith(words), answer.get_json()


def test_each_door_refuses_a_too_long_name(app, doors):
    client, runner, auth = doors
    long_name = "x" * (limits("name")["max_length"] + 1)
    words = f"at most {limits('name')['max_length']} characters"
    page = client.post("/campaigns/new", data=_form_post(name=long_name)).data.decode()
    assert f"Name: {words}" in page
    result = runner.invoke(args=["campaign", "create", "--brand", "Brand A", "--name",
                                 long_name, "--topics", "coffee"])
    assert result.exit_code == 1 and f"--name: {words}" in result.output
    answer = app.test_client().post("/api/v1/campaigns", headers=auth,
                                    json={**MINIMAL, "name": long_name})
    assert answer.get_json()["problems"] == {"name": words}


def test_the_api_returns_every_problem_in_one_answer(app, doors):
    _client, _runner, auth = doors
    answer = app.test_client().post("/api/v1/campaigns", headers=auth, json={
        "name": "", "topics": ["knitting"], "quantity": 0, "score_min": 70, "score_max": 20,
        "languages": ["english!"], "bot_strictness": "paranoid", "colour": "red",
        "starts_on": "2026-05-02", "ends_on": "2026-05-01", "min_topic_weight": "0.3"})
    assert answer.status_code == 422
    assert answer.get_json()["problems"] == {
        "name": "required",
        "quantity": "must be at least 1",
        "topics": "not in the taxonomy: knitting (did you mean diy?)",
        "min_topic_weight": "must be a number",
        "score_max": "must not be below the lower end (70)",
        "languages": "'english!' is not a language code such as en or pt-br",
        "bot_strictness": "must be lenient, balanced, strict or a number 0–1",
        "ends_on": "ends before it starts (2026-05-02)",
        "colour": "unknown field",
    }


def test_the_cli_sets_opted_in_only_and_export_bio_location(app, doors):
    _client, runner, _auth = doors
    result = runner.invoke(args=["campaign", "create", "--brand", "Brand A", "--name", "Opt",
                                 "--topics", "coffee", "--opted-in-only", "--export-bio-location",
                                 "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["opted_in_only"] is True and created["export_bio_location"] is True
    assert created["quantity"] == default("quantity")


def test_required_fields_have_no_default():
    assert [n for n in FIELDS if default(n) is PydanticUndefined] == ["name", "topics"]
