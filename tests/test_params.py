"""Odd values in every parameter of every route: never a server error (issue 14, item 5).

The routes come from the URL map; each view's parameters are read from its source (and that
of the module's helpers it calls): `request.args` / `request.form` names, perks.web.params
calls, and the fields of the FlaskForms it builds. So a parameter added later is fuzzed
without anyone editing this file. Runs on SQLite and PostgreSQL (PostgreSQL refuses NUL)."""

import inspect
import re

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from perks.web import api_shapes
from tests.conftest import gen_user, make_test_app
from tests.security_support import bearer, build_world, login
from tests.test_isolation import PARAMS

# Unicode digits pass str.isdigit() but not int(); 25 nines pass int() but not a 64-bit key;
# NUL cannot be stored in PostgreSQL; CR LF cannot go into a header.
ODD = ["²", "9" * 25, "-1", "", "a\x00b", "/\r\n/x", "x" * 5000]
ODD_URL = ["²", "9" * 25, "-1", "%00", "a%00b"]
NO_LIMITS = {name: 10**6 for name in ("login", "login-account", "login-address", "removal",
                                      "removal-handle", "removal-all")}
OPERATOR = "ops@brand-a.example"


def _url(rule, world) -> str:
    # URL parts filled with Brand A's real ids (the isolation test's mapping).
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(PARAMS[m.group(1)][1](world)), rule.rule)


def view_parameters(view) -> set[str]:
    """The query and form parameter names a view (or a helper of its module it calls) reads."""
    function = inspect.unwrap(view)
    module = inspect.getmodule(function)
    text = inspect.getsource(function)
    for helper in set(re.findall(r"\b(_?[a-z]\w*)\(", text)):
        found = getattr(module, helper, None)
        if inspect.isfunction(found) and found.__module__ == module.__name__:
            text += inspect.getsource(found)
    names = set(re.findall(r'(?:args|form)\.(?:get|getlist)\(\s*"([^"]+)"', text))
    names |= set(re.findall(r'\b(?:int_arg|_int_arg|id_list)\(\s*"([^"]+)"', text))
    names |= set(re.findall(r'\bparse_int\([^,()]+,\s*"([^"]+)"', text))
    names |= {"page"} if "page_arg()" in text else set()
    names |= {"version_1"} if 'f"version_{' in text else set()
    for shape in set(re.findall(r"\b_query\(shapes\.(\w+)\)", text)):  # the API's query models
        names |= set(getattr(api_shapes, shape).model_fields)
    for form_name in set(re.findall(r"\b([A-Z]\w*Form)\b", text)):
        form = getattr(module, form_name, None)
        if inspect.isclass(form) and issubclass(form, FlaskForm):
            names |= {name for name in dir(form)
                      if isinstance(getattr(form, name, None), UnboundField)}
    return names


def _cases(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint.startswith(
            "privacy.f"), r.rule)):  # forgetting changes the pool: last
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, view_parameters(app.view_functions[rule.endpoint])


@pytest.fixture
def fuzz_app(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path, RATE_LIMITS=NO_LIMITS)
    yield app
    app.extensions["perks_engine"].dispose()


def test_the_parameter_finder_sees_what_the_probe_used(app):
    views = app.view_functions
    assert {"q", "page"} <= view_parameters(views["pages.accounts"])
    assert {"one", "account_id", "version_1", "note", "back"} <= view_parameters(
        views["review.decide"])
    assert {"page", "per_page"} <= view_parameters(views["api.shortlist"])
    assert {"campaign_id", "page", "per_page"} <= view_parameters(views["api.review_queue"])
    assert {"email", "password", "next"} <= view_parameters(views["auth.login"])
    assert {"handle", "contact_email", "platform"} <= view_parameters(views["privacy.removal"])
    assert {"handle", "status", "sort", "page"} <= view_parameters(views["campaigns.show"])
    assert {"name"} <= view_parameters(views["settings.tokens"])
    assert {"reason", "campaign"} <= view_parameters(views["review.index"])


def test_odd_values_in_every_parameter_of_every_route_are_never_a_server_error(fuzz_app):
    app = fuzz_app
    world = build_world(app)
    gen_user(app, email=OPERATOR, brand="Brand A", role="operator")  # may call every route
    client = app.test_client()
    login(client, OPERATOR)
    sent = 0
    for rule, method, names in _cases(app):
        url = _url(rule, world)
        api = rule.endpoint.startswith("api.")
        for name in sorted(names):
            for value in ODD + ([f"{v}:genuine" for v in ODD] if name == "one" else []):
                query = {name: value}
                if api:
                    response = client.open(url, method=method, headers=bearer(world.a_token),
                                           query_string=query)
                else:
                    response = client.open(url, method=method, query_string=query,
                                           data=query if method == "POST" else None)
                response.close()  # a streamed export ends here
                assert response.status_code < 500, (method, url, name, value)
                sent += 1
        if rule.arguments:
            for value in ODD_URL:
                odd_url = re.sub(r"<(?:\w+:)?(\w+)>", value, rule.rule)
                response = client.open(odd_url, method=method, headers=bearer(world.a_token)
                                       if api else None)
                response.close()
                assert response.status_code in (400, 404, 405), (method, odd_url)
                sent += 1
        if rule.endpoint == "auth.logout":
            login(client, OPERATOR)
    assert sent > 500, sent


@pytest.mark.parametrize(("method", "path", "data"), [
    # The 22 the probe found, by kind.
    ("POST", "/campaigns/{c}/decide", {"account_id": "²", "action": "drop"}),
    ("POST", "/review/decide", {"one": "²:genuine"}),
    ("POST", "/review/decide", {"account_id": "9" * 25, "bulk": "genuine"}),
    ("GET", "/accounts?page=²", None),
    ("GET", "/accounts?page=" + "9" * 25, None),
    ("GET", "/api/v1/campaigns/{c}/shortlist?per_page=³", None),
    ("GET", "/api/v1/review/queue?campaign_id=²", None),
    ("GET", "/review/?page=" + "9" * 25, None),
    ("POST", "/login", {"email": "a\x00@b.example", "password": "x"}),
    ("POST", "/removal", {"handle": "ana", "contact_email": "a\x00@b.example"}),
    ("GET", "/accounts?q=a%00b", None),
    ("GET", "/campaigns/{c}?handle=a%00b", None),
    ("GET", "/review/?reason=a%00b", None),
    ("POST", "/review/decide", {"one": "{a}:genuine", "note": "a\x00b"}),
    ("POST", "/settings/tokens", {"name": "a\x00b"}),
    ("POST", "/settings/users", {"email": "a\x00@b.example", "password": "x" * 12}),
])
def test_what_the_probe_found_is_a_400_or_404_with_a_message(fuzz_app, method, path, data):
    world = build_world(fuzz_app)
    client = fuzz_app.test_client()
    login(client, "ana@brand-a.example")
    path = path.format(c=world.campaign_id)
    data = {k: v.format(a=world.account_id) for k, v in (data or {}).items()} or None
    headers = bearer(world.a_token) if path.startswith("/api/") else None
    response = client.open(path, method=method, data=data, headers=headers)
    assert response.status_code in (400, 404), response.status_code
    assert re.search(r"whole number|NUL character|not found", response.get_data(as_text=True),
                     re.IGNORECASE)


def test_a_header_breaking_next_after_login_is_not_a_server_error(app):
    gen_user(app, email="ana@brand-a.example")
    response = app.test_client().post(
        "/login?next=/%0D%0A/x", data={"email": "ana@brand-a.example",
                                       "password": "correct horse battery"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
