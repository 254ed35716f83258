"""The OpenAPI 3 document of /api/v1, written by hand; tests/test_api.py checks it against the
URL map both ways, and a bounded schemathesis run checks the answers against it."""

from copy import deepcopy
from typing import Any

from perks.models import CAMPAIGN_STATUSES, REVIEW_DECISIONS
from perks.review.queue import STATES
from perks.web.api_shapes import INT_MAX, NO_NUL

N = {"nullable": True}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
STRING = {"type": "string"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    texts = {400: "Bad query parameter", 401: "Missing, unknown or revoked token",
             403: "Your role may not do this", 404: "Not found in your brand",
             409: "Someone decided first; `current` holds their decision",
             413: "Body too large", 415: "Body is not JSON", 422: "Body not valid"}
    return {str(c): {"description": texts[c], **_json(_ref("Error"))} for c in codes}


PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                               "maximum": 10**9}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": 200}},
]
CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 0}}

CAMPAIGN_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_NUL},
    "topics": {"type": "array", "minItems": 1, "maxItems": 50,
               "items": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": NO_NUL},
               "description": "taxonomy slugs (`perks topics`)"},
    "perk_description": {"type": "string", "maxLength": 2000, "pattern": NO_NUL},
    "quantity": {"type": "integer", "minimum": 1, "maximum": 100_000},
    "perk_value": {"type": "number", "minimum": 0, "maximum": 1e9, **N},
    "topic_mode": {"type": "string", "enum": ["any", "all"]},
    "min_topic_weight": {"type": "number", "minimum": 0, "maximum": 1},
    "score_mode": {"type": "string", "enum": ["percentile", "absolute"]},
    "score_min": {"type": "number", "minimum": 0, "maximum": 100},
    "score_max": {"type": "number", "minimum": 0, "maximum": 100},
    "followers_min": {"type": "integer", "minimum": 0, "maximum": INT_MAX, **N},
    "followers_max": {"type": "integer", "minimum": 0, "maximum": INT_MAX, **N},
    "languages": {"type": "array", "maxItems": 50,
                  "items": {"type": "string", "minLength": 1, "maxLength": 20,
                            "pattern": NO_NUL}},
    "location_contains": {"type": "string", "maxLength": 100, "pattern": NO_NUL, **N},
    "bot_strictness": {"type": "string", "maxLength": 20, "pattern": NO_NUL,
                       "description": "lenient, balanced, strict or a probability 0–1"},
    "exclude_recent_days": {"type": "integer", "minimum": 1, "maximum": 3650, **N},
    "one_per_person": {"type": "boolean"},
    "opted_in_only": {"type": "boolean"},
    "export_bio_location": {"type": "boolean"},
    "starts_on": {"type": "string", "format": "date", **N},
    "ends_on": {"type": "string", "format": "date", **N},
}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": STRING, "message": STRING, "problems": {"type": "array", "items": STRING},
        "current": {"type": "object", "properties": {
            "decision": {"type": "string", **N}, "version": INTEGER}}}},
    "CampaignIn": {"type": "object", "additionalProperties": False,
                   "required": ["name", "topics"], "properties": CAMPAIGN_FIELDS},
    "Campaign": {"type": "object", "required": ["id", "name", "topics", "quantity"],
                 "properties": {"id": INTEGER, **deepcopy(CAMPAIGN_FIELDS),
                                "created_at": {"type": "string", "format": "date-time"},
                                "updated_at": {"type": "string", "format": "date-time"}}},
    "CampaignDetail": {"allOf": [_ref("Campaign"), {"type": "object", "properties": {
        "counts": {"type": "object", "additionalProperties": INTEGER}}}]},
    "ShortlistRow": {"type": "object", "properties": {
        "rank": {"type": "integer", **N}, "status": {"type": "string",
                                                     "enum": list(CAMPAIGN_STATUSES)},
        "account_id": INTEGER, "handle": STRING, "name": {"type": "string", **N},
        "platform": STRING, "followers": INTEGER, "score": {"type": "number", **N},
        "percentile": {"type": "number", **N}, "relevance": {"type": "number", **N},
        "bot_probability": {"type": "number", **N}}},
    "Account": {"type": "object", "required": ["id", "handle", "review"], "properties": {
        "id": INTEGER, "handle": STRING, "name": {"type": "string", **N}, "platform": STRING,
        "followers": INTEGER, "score": {"type": "number", **N},
        "percentile": {"type": "number", **N}, "bot_probability": {"type": "number", **N},
        "bot_flags": {"type": "array", "items": STRING},
        "topics": {"type": "array", "items": {"type": "object", "properties": {
            "slug": STRING, "weight": NUMBER}}},
        "review": {"type": "object", "description": "your brand's decision only",
                   "properties": {"decision": {"type": "string", **N}, "version": INTEGER}}}},
    "QueueItem": {"type": "object", "required": ["account_id", "version"], "properties": {
        "account_id": INTEGER, "screen_name": STRING, "name": {"type": "string", **N},
        "url": {"type": "string", **N}, "probability": {"type": "number", **N},
        "reasons": {"type": "array", "items": STRING},
        "rule_flags": {"type": "array", "items": STRING}, "importance": NUMBER,
        "relevance": NUMBER, "followers_count": INTEGER, "friends_count": INTEGER,
        "statuses_count": INTEGER, "influence_percentile": {"type": "number", **N},
        "posts_per_day": {"type": "number", **N}, "model_version": {"type": "string", **N},
        "decision": {"type": "string", **N},
        "version": {"type": "integer", "description": "send it back when deciding"},
        "campaigns": {"type": "array", "items": {"type": "object"}}, "platform": STRING}},
    "DecisionIn": {"type": "object", "additionalProperties": False,
                   "required": ["account_id", "decision", "version"], "properties": {
                       "account_id": {"type": "integer", "minimum": 1, "maximum": 2**62},
                       "decision": {"type": "string", "enum": list(REVIEW_DECISIONS)},
                       "version": {"type": "integer", "minimum": 0, "maximum": 2**62},
                       "note": {"type": "string", "maxLength": 2000, "pattern": NO_NUL, **N}}},
    "Decision": {"type": "object", "required": ["account_id", "decision", "version"],
                 "properties": {"account_id": INTEGER, "decision": STRING,
                                "version": INTEGER}},
}


def _page_of(item: str) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total", "pages"],
            "properties": {"items": {"type": "array", "items": _ref(item)}, "page": INTEGER,
                           "per_page": INTEGER, "total": INTEGER, "pages": INTEGER}}


PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3 document",
                              **_json({"type": "object"})}}}},
    "/api/v1/campaigns": {
        "get": {"operationId": "listCampaigns", "summary": "Your brand's campaigns",
                "responses": {"200": {"description": "Campaigns", **_json({
                    "type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array", "items": _ref("Campaign")}}})},
                    **_errors(401)}},
        "post": {"operationId": "createCampaign",
                 "summary": "Create a campaign (admin, manager)",
                 "requestBody": {"required": True, **_json(_ref("CampaignIn"))},
                 "responses": {"201": {"description": "Created", **_json(_ref("Campaign"))},
                               **_errors(401, 403, 413, 415, 422)}}},
    "/api/v1/campaigns/{campaign_id}": {"get": {
        "operationId": "getCampaign", "summary": "One campaign with its shortlist counts",
        "parameters": [CAMPAIGN_ID],
        "responses": {"200": {"description": "Campaign", **_json(_ref("CampaignDetail"))},
                      **_errors(401, 404)}}},
    "/api/v1/campaigns/{campaign_id}/shortlist": {"get": {
        "operationId": "getShortlist", "summary": "The shortlist, one page at a time",
        "parameters": [CAMPAIGN_ID, *PAGE_PARAMS, {
            "name": "status", "in": "query",
            "schema": {"type": "string", "enum": list(CAMPAIGN_STATUSES)}}],
        "responses": {"200": {"description": "A page", **_json(_page_of("ShortlistRow"))},
                      **_errors(400, 401, 404)}}},
    "/api/v1/campaigns/{campaign_id}/export.csv": {"get": {
        "operationId": "exportShortlist",
        "summary": "The CSV export, the same bytes as the web download (admin, manager)",
        "parameters": [CAMPAIGN_ID,
                       {"name": "kind", "in": "query",
                        "schema": {"type": "string", "enum": ["approved", "all", "analyst"]},
                        "description": "approved (default): who gets the perk; all: every "
                                       "shortlist row; analyst: every row with the model "
                                       "columns"},
                       {"name": "excel", "in": "query", "schema": {"type": "string",
                                                                   "enum": ["0", "1"]},
                        "description": "1: start with a UTF-8 byte order mark for Excel"},
                       {"name": "all", "in": "query", "schema": {"type": "string",
                                                                 "enum": ["0", "1"]},
                        "description": "older spelling of kind=all"},
                       {"name": "bom", "in": "query", "schema": {"type": "string",
                                                                 "enum": ["0", "1"]},
                        "description": "older spelling of excel=1"}],
        "responses": {"200": {"description": "CSV",
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      **_errors(400, 401, 403, 404)}}},
    "/api/v1/accounts/{handle}": {"get": {
        "operationId": "getAccount", "summary": "An account of the pool, by handle",
        "parameters": [{"name": "handle", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100,
                                   "pattern": "^[A-Za-z0-9_.@-]+$"}}],
        "responses": {"200": {"description": "Account", **_json(_ref("Account"))},
                      **_errors(401, 404)}}},
    "/api/v1/review/queue": {"get": {
        "operationId": "reviewQueue", "summary": "Your brand's review queue",
        "parameters": [*PAGE_PARAMS,
                       {"name": "state", "in": "query",
                        "schema": {"type": "string", "enum": list(STATES)}},
                       {"name": "campaign_id", "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 2**62}}],
        "responses": {"200": {"description": "A page", **_json(_page_of("QueueItem"))},
                      **_errors(400, 401, 404)}}},
    "/api/v1/review/decisions": {"post": {
        "operationId": "decide", "summary": "Decide a flagged account (compare-and-set)",
        "requestBody": {"required": True, **_json(_ref("DecisionIn"))},
        "responses": {"200": {"description": "Stored", **_json(_ref("Decision"))},
                      **_errors(401, 403, 404, 409, 413, 415, 422)}}},
}


def document() -> dict[str, Any]:
    """The OpenAPI document as a fresh dict."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "perks API", "version": "1",
                 "description": "Bearer tokens from Settings → API tokens or "
                                "`perks token create`. Another brand's objects are 404."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": deepcopy(SCHEMAS)},
        "paths": deepcopy(PATHS),
    }
