"""Flask extensions, created unbound here and bound in the factory."""

from dataclasses import dataclass

from flask_login import LoginManager, UserMixin
from flask_wtf import CSRFProtect

from perks.db import get_session
from perks.models import User

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.session_protection = "strong"


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
