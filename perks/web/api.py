"""The JSON API under /api/v1, for scripts. Bearer tokens only (perks.auth.tokens): a cookie
session carries no authority here, so the blueprint is exempt from CSRF. Roles apply as on the
web pages, and another brand's campaign is a 404. Each view's docstring carries its OpenAPI
operation (YAML after `---`); perks/web/openapi.py builds the document from them, the URL map
and the shapes in perks/web/api_shapes.py."""

import time
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from perks.accounts import account_topics, find_account
from perks.auth.tokens import TOUCH_EVERY, hash_token, user_for_token
from perks.campaigns import allocation, service
from perks.campaigns.schema import problems
from perks.campaigns.store import CampaignError, get_campaign, list_campaigns
from perks.db import get_session
from perks.models import Campaign
from perks.review import decisions
from perks.review.queue import queue_page
from perks.web import api_shapes as shapes
from perks.web.access import EVERYONE, MANAGERS, REVIEWERS, roles_required
from perks.web.derived import cached, current_version
from perks.web.errors import json_error
from perks.web.extensions import CurrentUser
from perks.web.openapi import document
from perks.web.responses import export_response

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.before_request
def _bearer_user() -> None:
    g.api_user = None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return
    secret = secret.strip()
    # Cached per data version and minute, so the token's last use is still marked each minute.
    g.api_user = cached(("token", hash_token(secret), int(time.time() // TOUCH_EVERY.seconds)),
                        lambda: _token_user(secret))


def _token_user(secret: str) -> CurrentUser | None:
    session = get_session()
    user = user_for_token(session=session, secret=secret)
    if user is None:
        return None
    from perks.models import Brand

    brand = session.get(Brand, user.brand_id)
    return CurrentUser(user.id, user.email, user.brand_id, brand.name if brand else "", user.role)


# JSON errors with a human sentence, routing errors under /api/ included: perks.web.errors.
blueprint.register_error_handler(HTTPException, json_error)


def _error(status: int, message: str, **extra):
    response = jsonify({"error": _REASONS.get(status, "Error"), "message": message, **extra})
    response.status_code = status
    return response


_REASONS = {400: "Bad Request", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity"}


def _query(model: type[BaseModel]) -> Any:
    """The query string read with `model` (api_shapes); 400 naming every bad parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        abort(_error(400, "the query string is not valid", problems=problems(error)))


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


def _invalid(what: str, found: dict[str, str]):
    return _error(422, f"the {what} is not valid", problems=found)


@blueprint.route("/openapi.json")
@roles_required()  # public: the document describes the API, it holds no data
def openapi():
    """This document.
    ---
    get:
      operationId: openapi
      summary: This document
      security: []
      responses:
        200:
          description: OpenAPI 3.1 document
          content: {application/json: {schema: {type: object}}}
    """
    # Built once per process: the routes and shapes do not change while it runs (~0.1 s).
    if "perks_openapi" not in current_app.extensions:
        current_app.extensions["perks_openapi"] = document(current_app)
    return jsonify(current_app.extensions["perks_openapi"])


@blueprint.route("/campaigns")
@roles_required(*EVERYONE)
def campaigns():
    """Your brand's campaigns.
    ---
    get:
      operationId: listCampaigns
      summary: Your brand's campaigns, newest first
      responses:
        200: {description: Campaigns, content: {application/json: {schema: CampaignList}}}
        401: Unauthorized
    """
    rows = list_campaigns(session=get_session(), brand_id=g.api_user.brand_id)
    return jsonify({"items": [shapes.Campaign.answer(c) for c in rows]})


@blueprint.route("/campaigns", methods=["POST"])
@roles_required(*MANAGERS)
def create():
    """Create a campaign; every invalid field is named in one answer.
    ---
    post:
      operationId: createCampaign
      summary: Create a campaign (admin, manager)
      requestBody:
        required: true
        content: {application/json: {schema: CampaignFields}}
      responses:
        201: {description: Created, content: {application/json: {schema: Campaign}}}
        401: Unauthorized
        403: Forbidden
        413: TooLarge
        415: NotJson
        422: Invalid
    """
    session = get_session()
    try:
        campaign = service.create(session=session, brand_id=g.api_user.brand_id,
                                  data=_json_body(), strict=True)
    except CampaignError as error:
        session.rollback()
        return _invalid("campaign", error.problems)
    session.commit()
    return jsonify(shapes.Campaign.answer(campaign)), 201


@blueprint.route("/campaigns/<int:campaign_id>")
@roles_required(*EVERYONE)
def campaign(campaign_id: int):
    """One campaign with its shortlist counts.
    ---
    get:
      operationId: getCampaign
      summary: One campaign with its shortlist counts
      responses:
        200: {description: Campaign, content: {application/json: {schema: CampaignDetail}}}
        401: Unauthorized
        404: NotFound
    """
    found = _own_campaign(campaign_id)
    return jsonify({**shapes.Campaign.answer(found),
                    "counts": allocation.status_counts(get_session(), found)})


@blueprint.route("/campaigns/<int:campaign_id>/shortlist")
@roles_required(*EVERYONE)
def shortlist(campaign_id: int):
    """The shortlist, one page at a time.
    ---
    get:
      operationId: getShortlist
      summary: The shortlist, one page at a time
      x-query: ShortlistQuery
      responses:
        200: {description: A page, content: {application/json: {schema: ShortlistPage}}}
        400: BadQuery
        401: Unauthorized
        404: NotFound
    """
    brand_id = g.api_user.brand_id

    def answer(query: shapes.ShortlistQuery) -> str | None:
        session = get_session()
        found = get_campaign(session=session, brand_id=brand_id, campaign_id=campaign_id)
        if found is None:
            return None
        result = service.shortlist(session, found, page=query.page, per_page=query.per_page,
                                   status=query.status)
        # Kept encoded: serialising 50 rows cost more than the rest of a cached answer.
        return current_app.json.dumps(shapes.PageOf.answer(result, result.items))

    # Read once per data version (perks.web.derived); another brand's id is a 404 before the
    # query string is looked at.
    version = current_version()
    if not cached(("own-campaign", brand_id, campaign_id), lambda: get_campaign(
            session=get_session(), brand_id=brand_id, campaign_id=campaign_id) is not None,
            version=version):
        abort(404, "no such campaign")
    query = _query(shapes.ShortlistQuery)
    body = cached(("api-shortlist", brand_id, campaign_id, query.page, query.per_page,
                   query.status), lambda: answer(query), version=version)
    if body is None:
        abort(404, "no such campaign")
    return current_app.response_class(body + "\n", mimetype="application/json")


@blueprint.route("/campaigns/<int:campaign_id>/export.csv")
@roles_required(*MANAGERS)
def export(campaign_id: int):
    """The CSV export.
    ---
    get:
      operationId: exportShortlist
      summary: The CSV export, the same bytes as the web download (admin, manager)
      x-query: ExportQuery
      responses:
        200: {description: CSV, content: {text/csv: {schema: {type: string}}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    found = _own_campaign(campaign_id)
    return export_response(get_session(), found, request.args)


@blueprint.route("/accounts/<handle>")
@roles_required(*EVERYONE)
def account(handle: str):
    """An account of the pool, by handle.
    ---
    get:
      operationId: getAccount
      summary: An account of the pool, by handle
      parameters:
        - {name: handle, in: path, required: true,
           schema: {type: string, minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9_.@-]+$"}}
      responses:
        200: {description: Account, content: {application/json: {schema: AccountOut}}}
        401: Unauthorized
        404: NotFound
    """
    session = get_session()
    found = (find_account(session, handle[:100], brand_id=g.api_user.brand_id)
             if "\x00" not in handle else None)
    if found is None:
        abort(404, "no account with that handle")
    current = decisions.current_decision(session=session, brand_id=g.api_user.brand_id,
                                         account_id=found.id)
    # Only the caller's brand's verdict: another brand's review is its own business.
    review = shapes.ReviewState(decision=current.decision, version=current.version)
    return jsonify(shapes.AccountOut.answer(found, account_topics(session, found.id), review))


@blueprint.route("/review/queue")
@roles_required(*EVERYONE)
def review_queue():
    """Your brand's review queue.
    ---
    get:
      operationId: reviewQueue
      summary: Your brand's review queue
      x-query: QueueQuery
      responses:
        200: {description: A page, content: {application/json: {schema: QueuePage}}}
        400: BadQuery
        401: Unauthorized
        404: NotFound
    """
    query = _query(shapes.QueueQuery)
    campaign_id = None if query.campaign_id is None else _own_campaign(query.campaign_id).id
    page = queue_page(get_session(), brand_id=g.api_user.brand_id, campaign_id=campaign_id,
                      state=query.state, page=query.page, per_page=query.per_page)
    return jsonify(shapes.PageOf.answer(page, [item.as_dict() for item in page.items]))


@blueprint.route("/review/decisions", methods=["POST"])
@roles_required(*REVIEWERS)
def decide():
    """Decide a flagged account.
    ---
    post:
      operationId: decide
      summary: Decide a flagged account (compare-and-set on `version`)
      requestBody:
        required: true
        content: {application/json: {schema: DecisionIn}}
      responses:
        200: {description: Stored, content: {application/json: {schema: Decision}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        413: TooLarge
        415: NotJson
        422: Invalid
    """
    try:
        shape = shapes.DecisionIn.model_validate_json(_json_body())
    except ValidationError as error:
        return _invalid("decision", problems(error))
    session = get_session()
    try:
        current = decisions.decide(session=session, brand_id=g.api_user.brand_id,
                                   account_id=shape.account_id, decision=shape.decision,
                                   note=shape.note, user_id=g.api_user.id,
                                   expected_version=shape.version)
    except decisions.DecisionConflict as conflict:
        session.commit()  # keeps the refused decision in the audit trail (outcome "lost")
        return _error(409, str(conflict), current={"decision": conflict.current.decision,
                                                   "version": conflict.current.version})
    except decisions.ReviewError as error:
        session.rollback()
        abort(404, str(error))
    session.commit()
    return jsonify({"account_id": shape.account_id, "decision": current.decision,
                    "version": current.version})
