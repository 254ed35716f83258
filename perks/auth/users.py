"""Brands and their users: creation, password checks and changes, deactivation, and the
session version that ends every session of a user at once."""

from functools import lru_cache

from sqlalchemy import func, select
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from perks.models import ROLES, Brand, User

MIN_PASSWORD_LENGTH = 10
# zxcvbn's estimate, 0-4: 3 is "safely unguessable" (about 10^8 guesses or more), which refuses
# keyboard walks, repeats, sequences and dictionary words with l33t tweaks.
MIN_PASSWORD_SCORE = 3


@lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    # Checked when the email is unknown, with the hasher and cost real users' hashes have, so
    # a login takes as long either way.
    return generate_password_hash("perks-timing-equaliser", method=method)


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


class EmailTaken(UserError):
    """The email already has an account (possibly in another brand: say so to no one but the
    operator)."""


def get_or_create_brand(*, session: Session, name: str) -> Brand:
    name = name.strip()
    if not name:
        raise UserError("a brand needs a name")
    brand = session.exec(select(Brand).where(Brand.name == name)).scalars().first()
    if brand is None:
        brand = Brand(name=name)
        session.add(brand)
        session.flush()
    return brand


def create_user(*, session: Session, email: str, password: str, brand: Brand,
                role: str = "manager", hash_method: str = "scrypt") -> User:
    """A new user of `brand`; raises UserError for a taken email, weak password or bad role."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise UserError(f"not an email address: {email!r}")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    check_password(password, email=email)
    if find_user(session=session, email=email) is not None:
        raise EmailTaken(f"{email} already has an account")
    user = User(email=email, role=role, brand_id=brand.id,
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    session.flush()
    return user


def check_password(password: str, *, email: str) -> None:
    """UserError unless the password is long enough, not blank, not the email and hard to
    guess by zxcvbn's estimate (which knows the common passwords and keyboard patterns)."""
    from zxcvbn import zxcvbn

    if not password.strip():
        raise UserError("the password must not be only spaces")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    email = email.strip().lower()
    if email in lowered or lowered == email.partition("@")[0]:
        raise UserError("the password must not be or contain the email address")
    # zxcvbn's matching is quadratic in length; past 100 characters it is long enough anyway.
    estimate = zxcvbn(password[:100], user_inputs=[email, *email.replace("@", ".").split(".")])
    if estimate["score"] < MIN_PASSWORD_SCORE:
        hint = estimate["feedback"]["warning"] or "it is too easy to guess"
        raise UserError(f"that password is too easy to guess ({hint.rstrip('.')}): "
                        "try a few unrelated words")


def set_password(*, session: Session, user: User, password: str,
                 hash_method: str = "scrypt") -> None:
    """Change a user's password (checked as at creation) and end all their sessions."""
    check_password(password, email=user.email)
    user.password_hash = generate_password_hash(password, method=hash_method)
    end_sessions(user)
    session.flush()


def deactivate(*, session: Session, user: User) -> None:
    """The user can no longer log in; their sessions, remember cookies and tokens stop."""
    user.is_active = False
    end_sessions(user)
    session.flush()


def end_sessions(user: User) -> None:
    """Every session and remember cookie of `user` stops loading (perks.web.extensions)."""
    user.session_version = (user.session_version or 0) + 1


def find_user(*, session: Session, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    return session.exec(query).scalars().first()


def authenticate(*, session: Session, email: str, password: str,
                 hash_method: str = "scrypt") -> User | None:
    """The active user with this email and password, or None; timing does not reveal which
    (`hash_method` is the one users' passwords are hashed with)."""
    user = find_user(session=session, email=email)
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user
