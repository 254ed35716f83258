"""Per-user API tokens: created (shown once), looked up by their hash, revoked.

A token is 32 random bytes, so a plain sha256 is enough to store it: nobody can brute-force
that space, and a fast hash keeps every API request cheap. Functions flush, never commit.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from perks.db import best_effort
from perks.models import ApiToken, User, utcnow

TOKEN_PREFIX = "perks_"  # noqa: S105 - not a secret: marks a leaked token for scanners
NAME_MAX = 100
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message says why."""


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # the only time the clear token exists: show it, then forget it


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(*, session: Session, user: User, name: str) -> NewToken:
    """A new token for `user`; the clear value is in the result and nowhere else."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise TokenError(f"a token needs a name of 1–{NAME_MAX} characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                     prefix=secret[:12])
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user_id)
                             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).scalars())


def revoke_token(*, session: Session, token_id: int, user_id: int | None = None) -> ApiToken:
    """Revoke a token (of `user_id` when given, so one user cannot touch another's)."""
    token = session.get(ApiToken, token_id)
    if token is None or (user_id is not None and token.user_id != user_id):
        raise TokenError(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def user_for_token(*, session: Session, secret: str) -> User | None:
    """The active user a live token belongs to, or None. Marks the token used, best-effort in
    its own short transaction: a busy database (an import) must not fail the call."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.exec(select(ApiToken).where(
        ApiToken.token_hash == hash_token(secret))).scalars().first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - _aware(token.last_used_at) >= TOUCH_EVERY:
        best_effort(session.get_bind(), lambda c: c.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)),
            what="token last use")
    return user


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
