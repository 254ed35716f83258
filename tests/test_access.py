"""Roles: every view declares who may call it, and each role gets what docs/security.md's
table says: 403 for a wrong role within the brand, the login page or 401 without a login."""

import pytest
from sqlmodel import Session

from perks.models import User
from tests.conftest import TEST_PASSWORD, AuthActions, gen_user
from tests.security_support import A_EMAIL, bearer, build_world, login
from tests.test_web import PUBLIC_ENDPOINTS


def test_every_view_declares_its_roles(app):
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        roles = getattr(view, "allowed_roles", None)
        assert roles is not None, f"{endpoint} lacks @roles_required"
        assert (roles == ()) == (endpoint in PUBLIC_ENDPOINTS), endpoint


# (method, path template, {role: expected status}); ids come from the world. An operator
# gets what an admin gets unless the row says otherwise.
MATRIX = [
    ("GET", "/", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/accounts", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/campaigns/", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/campaigns/{c}", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/campaigns/new", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("GET", "/campaigns/{c}/edit", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("POST", "/campaigns/{c}/refresh", {"admin": 302, "manager": 302, "reviewer": 403}),
    ("POST", "/campaigns/{c}/decide", {"admin": 400, "manager": 400, "reviewer": 403}),
    ("GET", "/campaigns/{c}/export.csv", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("GET", "/review/", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/review/threshold", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("POST", "/review/decide", {"admin": 400, "manager": 400, "reviewer": 400}),
    ("GET", "/privacy/requests", {"operator": 200, "admin": 403, "manager": 403,
                                  "reviewer": 403}),
    ("POST", "/privacy/accounts/{a}/withdraw", {"admin": 302, "manager": 403, "reviewer": 403}),
    ("GET", "/settings/users", {"admin": 200, "manager": 403, "reviewer": 403}),
    ("GET", "/uploads/", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("GET", "/uploads/{u}", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("GET", "/uploads/{u}/status", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("GET", "/uploads/{u}/rejects.csv", {"admin": 200, "manager": 200, "reviewer": 403}),
    ("GET", "/settings/tokens", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/api/v1/campaigns", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("POST", "/api/v1/campaigns", {"admin": 422, "manager": 422, "reviewer": 403}),
    ("GET", "/api/v1/campaigns/{c}/shortlist", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("GET", "/api/v1/campaigns/{c}/export.csv", {"admin": 200, "manager": 200,
                                                  "reviewer": 403}),
    ("GET", "/api/v1/review/queue", {"admin": 200, "manager": 200, "reviewer": 200}),
    ("POST", "/api/v1/review/decisions", {"admin": 422, "manager": 422, "reviewer": 422}),
    # Erasing for every brand, last: it changes the shared pool.
    ("POST", "/privacy/requests/{r}/reject", {"operator": 302, "admin": 403, "manager": 403,
                                              "reviewer": 403}),
    ("POST", "/privacy/accounts/{a}/forget", {"operator": 302, "admin": 403, "manager": 403,
                                              "reviewer": 403}),
]


@pytest.mark.parametrize("role", ["operator", "admin", "manager", "reviewer"])
def test_each_role_gets_what_the_table_says(app, role):
    world = build_world(app)
    email = gen_user(app, email=f"{role}-x@brand-a.example", role=role)
    from tests.conftest import gen_token

    token = gen_token(app, email=email)
    client = app.test_client()
    login(client, email)
    for method, template, expected in MATRIX:
        path = template.format(c=world.campaign_id, r=world.request_id, a=world.account_id,
                               u=world.run_id)
        if path.startswith("/api/"):
            response = client.open(path, method=method, headers=bearer(token),
                                   json={} if method == "POST" else None)
        else:
            response = client.open(path, method=method)
        assert response.status_code == expected.get(role, expected["admin"]), (role, method, path)


def test_a_reviewer_sees_a_campaign_without_its_management_links(app):
    world = build_world(app)
    email = gen_user(app, email="rita@brand-a.example", role="reviewer")
    client = app.test_client()
    login(client, email)
    page = client.get(f"/campaigns/{world.campaign_id}").get_data(as_text=True)
    assert "Alpha secret launch" in page
    assert "Export CSV" not in page and "/edit" not in page and "Refresh shortlist" not in page


def test_an_admin_adds_a_user_with_a_role_through_the_policy(app, client):
    gen_user(app, email=A_EMAIL, role="admin")
    login(client, A_EMAIL)
    weak = client.post("/settings/users", data={"email": "new@brand-a.example",
                                                "password": "password123", "role": "reviewer"})
    assert weak.status_code == 200 and "too easy to guess" in weak.get_data(as_text=True)
    made = client.post("/settings/users", data={"email": "New@Brand-A.example",
                                                "password": TEST_PASSWORD, "role": "reviewer"})
    assert made.status_code == 302
    page = client.get("/settings/users").get_data(as_text=True)
    assert "new@brand-a.example" in page and "reviewer" in page
    with Session(app.extensions["perks_engine"]) as session:
        user = session.exec(User.__table__.select().where(
            User.email == "new@brand-a.example")).first()
        assert user.role == "reviewer" and user.brand_id == 1
    other = app.test_client()
    assert AuthActions(other).login("new@brand-a.example").status_code == 302
    assert other.get("/settings/users").status_code == 403
