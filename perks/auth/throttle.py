"""Login throttling: at most LIMIT failed logins per email and client address per WINDOW.

Failures are rows in the database, so every worker process (and every host behind the same
database) counts the same failures. Counting then inserting is not atomic: a burst of parallel
requests can get a few tries past the limit, never an unbounded number.
"""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session

from perks.models import LoginFailure, utcnow

LIMIT = 5
WINDOW = timedelta(minutes=15)


def login_key(email: str, client_ip: str | None, salt: str) -> str:
    """A salted hash: the table never holds an email or an address in clear."""
    text = f"{salt}|login|{(email or '').strip().lower()}|{client_ip or 'unknown'}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def is_throttled(*, session: Session, key: str, limit: int = LIMIT, window: timedelta = WINDOW,
                 now: datetime | None = None) -> bool:
    since = (now or utcnow()) - window
    count = session.execute(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.key_hash == key, LoginFailure.at >= since)).scalar_one()
    return count >= limit


def record_failure(*, session: Session, key: str, window: timedelta = WINDOW,
                   now: datetime | None = None) -> None:
    """Note one failure and drop everyone's failures older than the window (flushes)."""
    now = now or utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - window))
    session.add(LoginFailure(key_hash=key, at=now))
    session.flush()


def clear_failures(*, session: Session, key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key_hash == key))
