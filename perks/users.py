"""Brands and their users: creation and password checks."""

from sqlalchemy import func, select
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from perks.models import ROLES, Brand, User

MIN_PASSWORD_LENGTH = 10
# Checked against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = generate_password_hash("perks-timing-equaliser", method="pbkdf2:sha256:1000")


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(session=session, email=email) is not None:
        raise UserError(f"{email} already has an account")
    user = User(email=email, role=role, brand_id=brand.id,
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    session.flush()
    return user


def find_user(*, session: Session, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    return session.exec(query).scalars().first()


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None; timing does not reveal which."""
    user = find_user(session=session, email=email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user
