"""Flask extensions, created unbound here and bound in the factory."""

from dataclasses import dataclass

from flask import flash, redirect, request
from flask_login import LoginManager, UserMixin, login_url
from flask_wtf import CSRFProtect

from perks.db import get_session
from perks.models import User

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


@dataclass
class CurrentUser(UserMixin):
    """The logged-in user as views see it: plain values, no database session attached."""

    id: int
    email: str
    brand_id: int
    brand_name: str
    role: str


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    from perks.models import Brand

    session = get_session()
    user = session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active:
        return None
    brand = session.get(Brand, user.brand_id)
    return CurrentUser(user.id, user.email, user.brand_id, brand.name if brand else "", user.role)
