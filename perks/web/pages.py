"""The logged-in pages: home, the accounts browser and an account's page; plus /healthz."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import text

from perks.accounts import count_accounts, get_account, search_accounts
from perks.accounts.profiles import account_summary
from perks.campaigns.store import list_campaigns
from perks.db import get_session
from perks.review.decisions import audit_trail
from perks.web.access import EVERYONE, roles_required
from perks.web.params import page_arg

blueprint = Blueprint("pages", __name__)


@blueprint.route("/healthz")
@roles_required()  # public: load balancers probe it
def healthz():
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}


@blueprint.route("/")
@roles_required(*EVERYONE)
def home():
    session = get_session()
    total = count_accounts(session, brand_id=current_user.brand_id)
    campaigns = list_campaigns(session=session, brand_id=current_user.brand_id)
    return render_template("pages/home.html", campaigns=campaigns, pool_size=total,
                           brand=current_user.brand_name)


@blueprint.route("/accounts")
@roles_required(*EVERYONE)
def accounts():
    query = request.args.get("q", "")[:100]
    page = page_arg()
    result = search_accounts(get_session(), brand_id=current_user.brand_id, query=query, page=page,
                             per_page=current_app.config["ACCOUNTS_PER_PAGE"])
    return render_template("pages/accounts.html", result=result, query=query)


@blueprint.route("/accounts/<int:account_id>")
@roles_required(*EVERYONE)
def account(account_id: int):
    session = get_session()
    record = get_account(session, account_id, brand_id=current_user.brand_id)
    if record is None:  # another brand's list-only account is as missing as a deleted one
        abort(404)
    audit = audit_trail(session=session, brand_id=current_user.brand_id, account_id=account_id)
    return render_template("pages/account.html", account=record, audit=audit,
                           summary=account_summary(session, record))
