"""Flask extensions, created unbound here and bound in the factory; and the user loader.

The id a session (and the remember cookie, which Flask-Login signs) carries is
"<user id>.<session version>.<issued at>.<nonce>": bumping the user's session version
(perks.auth.users.end_sessions, on logout, password change and deactivation) ends every session of
that user; a session older than SESSION_MAX_AGE stops loading whatever its cookie says; and each
login mints a new value, so remember cookies rotate.
"""

import secrets
import time
from dataclasses import dataclass

from flask import current_app, flash, redirect, request
from flask_login import LoginManager, UserMixin, login_url
from flask_wtf import CSRFProtect

from perks.db import get_session
from perks.models import User
from perks.web.derived import cached

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


@login_manager.unauthorized_handler
def _to_login():
    # The front door is simply the login page; a deeper link says why it asks for a login.
    if request.path != "/":
        flash("Log in to see that page.", "info")
    return redirect(login_url(login_manager.login_view, next_url=request.url))


@dataclass(frozen=True)
class CurrentUser(UserMixin):
    """The logged-in user as views see it: plain values, no database session attached; frozen,
    as one is shared by the requests of a data version (perks.web.derived)."""

    id: int
    email: str
    brand_id: int
    brand_name: str
    role: str
    session_id: str = ""

    def get_id(self) -> str:
        return self.session_id


def new_session_id(user: User) -> str:
    return f"{user.id}.{user.session_version}.{int(time.time())}.{secrets.token_hex(8)}"


def current_user_for(user: User, session_id: str = "") -> CurrentUser:
    from perks.models import Brand

    brand = get_session().get(Brand, user.brand_id)
    return CurrentUser(user.id, user.email, user.brand_id, brand.name if brand else "",
                       user.role, session_id)


def start_session(user: User) -> CurrentUser:
    """The CurrentUser to pass to login_user: a fresh session id for this login."""
    return current_user_for(user, new_session_id(user))


@login_manager.user_loader
def load_user(session_id: str) -> CurrentUser | None:
    parts = session_id.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() for p in parts[:3]):
        return None  # an old-style or tampered id: log in again
    user_id, version, issued = (int(p) for p in parts[:3])
    max_age = current_app.config["SESSION_MAX_AGE"].total_seconds()
    if user_id >= 2**63 or not 0 <= time.time() - issued <= max_age:
        return None
    return cached(("user", session_id), lambda: _current_user(user_id, version, session_id))


def _current_user(user_id: int, version: int, session_id: str) -> CurrentUser | None:
    user = get_session().get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return current_user_for(user, session_id)
