"""Brands and their users: creation and password checks."""

from sqlalchemy import func, select
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from perks.models import ROLES, Brand, User

MIN_PASSWORD_LENGTH = 10
# The ten-plus-character passwords that top the leaked-password lists: refused outright.
COMMON_PASSWORDS = frozenset({
    "1234567890", "12345678910", "123456789a", "0123456789", "1111111111", "0987654321",
    "1q2w3e4r5t", "1qaz2wsx3edc", "qwertyuiop", "qwerty12345", "qwerty123456", "asdfghjkl;",
    "password12", "password123", "password1234", "passw0rd123", "iloveyou12", "iloveyou123",
    "letmein123", "welcome123", "welcome1234", "admin12345", "administrator", "abc1234567",
    "changeme123", "football123", "monkey12345", "princess123", "sunshine123", "trustno1234",
    "superman123", "starwars123", "perks12345", "perkspassword",
})
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
    check_password(password, email=email)
    if find_user(session=session, email=email) is not None:
        raise UserError(f"{email} already has an account")
    user = User(email=email, role=role, brand_id=brand.id,
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    session.flush()
    return user


def check_password(password: str, *, email: str) -> None:
    """UserError unless the password is long enough, not a common one and not the email."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise UserError("that password is on the list of the most common ones: choose another")
    email = email.strip().lower()
    if email in lowered or lowered == email.partition("@")[0]:
        raise UserError("the password must not be or contain the email address")


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
