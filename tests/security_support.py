"""Two brands in one pool for the isolation, CSRF, access and API tests: Brand A owns a
campaign with a shortlist, a review decision with a note, an API token and a user; Brand B has
an admin. MARKERS are strings only Brand A's data contains."""

from dataclasses import dataclass

from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.campaigns import service
from perks.privacy.removal import submit_removal
from perks.review import decisions
from tests.conftest import AuthActions, gen_token, gen_user
from tests.test_campaigns import gen_campaign
from tests.test_review import CAMPAIGN, gen_review_pool

A_CAMPAIGN = "Alpha secret launch"
A_NOTE = "alpha-note-7f3"
A_TOKEN_NAME = "alpha-token-name"
A_EMAIL = "ana@brand-a.example"
A_UPLOAD = "alpha-pool-9c1.csv"
B_EMAIL = "bo@brand-b.example"
MARKERS = (A_CAMPAIGN, A_NOTE, A_TOKEN_NAME, A_EMAIL, A_UPLOAD)


@dataclass
class World:
    campaign_id: int
    account_id: int  # decided by Brand A, with A_NOTE
    handle: str
    token_id: int
    request_id: int
    ids: dict[str, int]
    a_token: str
    b_token: str
    run_id: int = 0  # Brand A's finished upload, with a rejects file


def build_world(app, *, b_role: str = "admin") -> World:
    from sqlalchemy import select

    from perks.importing.uploads import rejects_path, upload_folder
    from perks.models import ApiToken, ImportRun

    gen_user(app, email=A_EMAIL, brand="Brand A", role="admin")
    gen_user(app, email=B_EMAIL, brand="Brand B", role=b_role)
    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        ids = gen_review_pool(session)
        campaign = gen_campaign(session, **{**CAMPAIGN, "name": A_CAMPAIGN})
        service.refresh(session, campaign)
        brand_a = get_or_create_brand(session=session, name="Brand A")
        decisions.decide(session=session, brand_id=brand_a.id, account_id=ids["pia"],
                         decision="genuine", note=A_NOTE, user_id=1, expected_version=0)
        request = submit_removal(session=session, handle="ben", client_ip="192.0.2.1",
                                 secret=app.config["SECRET_KEY"])
        upload = ImportRun(source_file=A_UPLOAD, upload_name=A_UPLOAD, file_format="csv",
                           status="done", brand_id=brand_a.id, user_id=1, list_name="alpha",
                           rejected=1, rows_read=1)
        session.add(upload)
        session.commit()
        campaign_id, request_id, run_id = campaign.id, request.id, upload.id
    rejects_path(upload_folder(app.instance_path), run_id).write_text(
        "line,field,reason\n2,id,missing\n")
    a_token = gen_token(app, email=A_EMAIL, name=A_TOKEN_NAME)
    b_token = gen_token(app, email=B_EMAIL, name="beta script")
    with Session(app.extensions["perks_engine"]) as session:
        token_id = session.exec(select(ApiToken.id).where(
            ApiToken.name == A_TOKEN_NAME)).scalars().one()
    return World(campaign_id, ids["pia"], "pia", token_id, request_id, ids, a_token, b_token,
                 run_id)


def login(client, email: str):
    response = AuthActions(client).login(email=email)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
