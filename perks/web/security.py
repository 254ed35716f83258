"""Request and response hardening: NUL characters refused at the edge, security headers and
no-store on every response, and role checks for templates."""

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from perks.web.access import ADMINS, MANAGERS, OPERATORS, acting_user

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class BoundedInt(IntegerConverter):
    """`<int:...>` capped at the largest 64-bit key: a bigger id is a 404, not an overflow."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before the blueprints register: the converter applies when their rules are bound."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_refuse_nul)
    app.after_request(_add_headers)
    app.context_processor(_permissions)


def _refuse_nul():
    # PostgreSQL cannot store or compare text with NUL in it; no form or query of ours needs one.
    # (JSON bodies are checked by their shapes, perks.web.api_shapes.)
    if "\x00" in request.path:
        abort(400, "The address contains a NUL character.")
    for source in (request.args, request.form):
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                abort(400, f"The field {name.replace(chr(0), '')!r} contains a NUL character.")


def _add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Pages hold brand data and new tokens: no browser or proxy cache may keep them.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _permissions() -> dict:
    # Templates hide what the role may not do; the views refuse it regardless.
    user = acting_user()
    return {"can_manage": bool(user and user.role in MANAGERS),
            "is_admin": bool(user and user.role in ADMINS),
            "is_operator": bool(user and user.role in OPERATORS)}
