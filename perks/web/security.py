"""Response hardening for every response: security headers, and role checks for templates."""

from flask import Flask
from werkzeug.routing import IntegerConverter

from perks.web.access import MANAGERS, acting_user

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
    app.after_request(_add_headers)
    app.context_processor(_permissions)


def _add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _permissions() -> dict:
    # Templates hide what the role may not do; the views refuse it regardless.
    user = acting_user()
    return {"can_manage": bool(user and user.role in MANAGERS),
            "is_admin": bool(user and user.role == "admin")}
