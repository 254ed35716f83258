"""Who may call a view: `roles_required(*roles)` wraps every view (tests/test_access.py checks).

Not logged in: the login page (web) or 401 (API). Logged in with another role: 403. Another
brand's object is a 404, decided in the view by looking it up within the user's brand, so a
wrong-brand id looks exactly like an id that does not exist.
"""

from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from perks.models import ROLES

EVERYONE = ROLES  # read the pool, campaigns, the review queue; own API tokens
MANAGERS = ("operator", "admin", "manager")  # change campaigns and shortlists, export
REVIEWERS = ("operator", "admin", "manager", "reviewer")  # decide the review queue
ADMINS = ("operator", "admin")  # brand users; drop an account from the brand's campaigns
OPERATORS = ("operator",)  # the shared pool: removal requests, erasing an account for everyone
PUBLIC = ()  # marks a view that needs no login (login page, removal form, health, API document)


def acting_user():
    """The user a request acts for: the bearer token's under /api/v1 (never the cookie
    session there, so a forged cross-site request carries no authority), else the session's."""
    if request.blueprint == "api":
        return g.get("api_user")
    return current_user if current_user.is_authenticated else None


def roles_required(*roles: str):
    """Let the view run only for a logged-in user with one of `roles`; `roles_required()` with
    no roles marks a deliberately public view."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if roles:
                user = acting_user()
                if user is None:
                    if request.blueprint == "api":
                        abort(401)
                    from perks.web.extensions import login_manager

                    return login_manager.unauthorized()
                if user.role not in roles:
                    abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = tuple(roles)
        return wrapper

    return decorate
