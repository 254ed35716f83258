"""The JSON API under /api/v1, for scripts. Bearer tokens only (perks.tokens): a cookie
session carries no authority here, so the blueprint is exempt from CSRF. Roles apply as on the
web pages, and another brand's campaign is a 404. The routes are documented in
perks/web/openapi.py, which tests/test_api.py holds to the URL map."""

from flask import Blueprint, abort, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from perks.accounts import account_topics, find_account
from perks.campaigns import allocation, matching
from perks.campaigns.store import CampaignError, create_campaign, get_campaign, list_campaigns
from perks.db import get_session
from perks.models import Campaign
from perks.review import decisions
from perks.review.queue import STATES, queue_page
from perks.tokens import user_for_token
from perks.web.access import EVERYONE, MANAGERS, REVIEWERS, roles_required
from perks.web.api_shapes import CampaignIn, DecisionIn
from perks.web.campaigns import export_response
from perks.web.errors import json_error
from perks.web.extensions import CurrentUser
from perks.web.openapi import document

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 200


@blueprint.before_request
def _bearer_user() -> None:
    g.api_user = None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return
    session = get_session()
    user = user_for_token(session=session, secret=secret.strip())
    if user is not None:
        session.commit()  # last_used_at
        from perks.models import Brand

        brand = session.get(Brand, user.brand_id)
        g.api_user = CurrentUser(user.id, user.email, user.brand_id,
                                 brand.name if brand else "", user.role)


# JSON errors with a human sentence, routing errors under /api/ included: perks.web.errors.
blueprint.register_error_handler(HTTPException, json_error)


def _error(status: int, message: str, **extra):
    response = jsonify({"error": _REASONS.get(status, "Error"), "message": message, **extra})
    response.status_code = status
    return response


_REASONS = {400: "Bad Request", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity"}


def _int_arg(name: str, default: int, *, low: int = 1, high: int = 10**9) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        abort(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _json_body() -> bytes:
    if not request.is_json:
        abort(415, "send the body as application/json")
    return request.get_data(cache=False)


def _own_campaign(campaign_id: int) -> Campaign:
    campaign = get_campaign(session=get_session(), brand_id=g.api_user.brand_id,
                            campaign_id=campaign_id)
    if campaign is None:
        abort(404, "no such campaign")
    return campaign


def campaign_json(campaign: Campaign) -> dict:
    data = campaign.model_dump(mode="json", exclude={"brand_id"})
    return data


@blueprint.route("/openapi.json")
@roles_required()  # public: the document describes the API, it holds no data
def openapi():
    return jsonify(document())


@blueprint.route("/campaigns")
@roles_required(*EVERYONE)
def campaigns():
    rows = list_campaigns(session=get_session(), brand_id=g.api_user.brand_id)
    return jsonify({"items": [campaign_json(c) for c in rows]})


@blueprint.route("/campaigns", methods=["POST"])
@roles_required(*MANAGERS)
def create():
    try:
        shape = CampaignIn.model_validate_json(_json_body())
    except ValidationError as error:
        return _error(422, "the campaign is not valid",
                      problems=[f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                                for e in error.errors(include_url=False)])
    session = get_session()
    try:
        campaign = create_campaign(session=session, brand_id=g.api_user.brand_id,
                                   data=shape.model_dump())
    except CampaignError as error:
        session.rollback()
        return _error(422, str(error), problems=str(error).split("; "))
    session.commit()
    return jsonify(campaign_json(campaign)), 201


@blueprint.route("/campaigns/<int:campaign_id>")
@roles_required(*EVERYONE)
def campaign(campaign_id: int):
    session = get_session()
    found = _own_campaign(campaign_id)
    return jsonify({**campaign_json(found),
                    "counts": allocation.status_counts(session, found)})


@blueprint.route("/campaigns/<int:campaign_id>/shortlist")
@roles_required(*EVERYONE)
def shortlist(campaign_id: int):
    session = get_session()
    found = _own_campaign(campaign_id)
    page, per_page = _int_arg("page", 1), _int_arg("per_page", 50, high=MAX_PER_PAGE)
    status = request.args.get("status")
    if status is not None and status not in allocation.status_counts(session, found):
        abort(400, "status must be offered, approved, waitlist or dropped")
    allocation.ensure(session, found,
                      bot_threshold=matching.bot_threshold(found.bot_strictness))
    session.commit()
    result = allocation.shortlist_page(session, found, page=page, per_page=per_page,
                                       statuses=(status,) if status else None)
    items = [{"rank": r["rank"], "status": r["status"], "account_id": r["account_id"],
              "handle": r["screen_name"], "name": r["name"], "platform": r["platform"],
              "followers": r["followers_count"], "score": r["influence_score"],
              "percentile": r["influence_percentile"], "relevance": r["relevance"],
              "bot_probability": r["bot_probability"]} for r in result.items]
    return jsonify({"items": items, "page": result.page, "per_page": result.per_page,
                    "total": result.total, "pages": result.pages})


@blueprint.route("/campaigns/<int:campaign_id>/export.csv")
@roles_required(*MANAGERS)
def export(campaign_id: int):
    found = _own_campaign(campaign_id)
    return export_response(get_session(), found, request.args)


@blueprint.route("/accounts/<handle>")
@roles_required(*EVERYONE)
def account(handle: str):
    session = get_session()
    found = find_account(session, handle[:100]) if "\x00" not in handle else None
    if found is None:
        abort(404, "no account with that handle")
    current = decisions.current_decision(session=session, brand_id=g.api_user.brand_id,
                                         account_id=found.id)
    return jsonify({
        "id": found.id, "handle": found.screen_name, "name": found.name,
        "platform": found.platform, "followers": found.followers_count,
        "score": found.influence_score, "percentile": found.influence_percentile,
        "bot_probability": found.bot_probability, "bot_flags": list(found.bot_flags or []),
        "topics": [{"slug": t["slug"], "weight": t["weight"]}
                   for t in account_topics(session, found.id)],
        # Only the caller's brand's verdict: another brand's review is its own business.
        "review": {"decision": current.decision, "version": current.version}})


@blueprint.route("/review/queue")
@roles_required(*EVERYONE)
def review_queue():
    session = get_session()
    state = request.args.get("state", "pending")
    if state not in STATES:
        abort(400, f"state must be one of {', '.join(STATES)}")
    campaign_id = request.args.get("campaign_id")
    if campaign_id is not None:
        campaign_id = _own_campaign(_int_arg("campaign_id", 0, high=2**62)).id
    page = queue_page(session, brand_id=g.api_user.brand_id, campaign_id=campaign_id,
                      state=state, page=_int_arg("page", 1),
                      per_page=_int_arg("per_page", 50, high=MAX_PER_PAGE))
    return jsonify({"items": [item.as_dict() for item in page.items], "page": page.page,
                    "per_page": page.per_page, "total": page.total, "pages": page.pages})


@blueprint.route("/review/decisions", methods=["POST"])
@roles_required(*REVIEWERS)
def decide():
    try:
        shape = DecisionIn.model_validate_json(_json_body())
    except ValidationError as error:
        return _error(422, "the decision is not valid",
                      problems=[f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                                for e in error.errors(include_url=False)])
    session = get_session()
    try:
        current = decisions.decide(session=session, brand_id=g.api_user.brand_id,
                                   account_id=shape.account_id, decision=shape.decision,
                                   note=shape.note, user_id=g.api_user.id,
                                   expected_version=shape.version)
    except decisions.DecisionConflict as conflict:
        session.rollback()
        return _error(409, str(conflict), current={"decision": conflict.current.decision,
                                                   "version": conflict.current.version})
    except decisions.ReviewError as error:
        session.rollback()
        abort(404, str(error))
    session.commit()
    return jsonify({"account_id": shape.account_id, "decision": current.decision,
                    "version": current.version})
