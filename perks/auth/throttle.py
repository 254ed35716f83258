"""One rate limiter, for login and for the public removal form, that holds under parallel
requests from every worker and host on the same database.

An attempt is one transaction: record a row under each key it counts against, count each key's
rows in its window, remove the rows again if a count is past its limit, commit. Attempts on the
same key are serialised, by SQLite's single writer (the insert takes the write lock and holds it
to the commit) and on PostgreSQL by a transaction-scoped advisory lock per key, so each count
sees every earlier attempt and exactly `limit` get through, however many arrive at once. A
database rather than Flask-Limiter: its
shared backends are Redis or memcached, which a fresh install does not have, and its memory
backend is per worker process, so `perks serve`'s workers would each allow the limit.

Keys are salted hashes (perks.privacy.suppression's rule): the table never holds an email,
a handle or an address in clear.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlmodel import Session

from perks.db import best_effort
from perks.models import RateLimitHit, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: timedelta
    message: str


LOGIN_MESSAGE = "Too many failed logins: wait 15 minutes and try again."
# Per email and address: a typo-prone user is slowed, an attacker elsewhere cannot lock them out.
LOGIN_PAIR = Rule("login", 5, timedelta(minutes=15), LOGIN_MESSAGE)
# Per account from anywhere: 10 addresses no longer get 5 guesses each.
LOGIN_ACCOUNT = Rule("login-account", 10, timedelta(minutes=15), LOGIN_MESSAGE)
# Per address across emails: one address cannot try a list of emails.
LOGIN_ADDRESS = Rule("login-address", 20, timedelta(minutes=15), LOGIN_MESSAGE)
REMOVAL_MESSAGE = "Too many requests; please try again later."
REMOVAL_ADDRESS = Rule("removal", 5, timedelta(hours=1), REMOVAL_MESSAGE)
REMOVAL_HANDLE = Rule("removal-handle", 3, timedelta(days=1), REMOVAL_MESSAGE)
# Overall: many addresses together cannot fill the table an operator has to read.
REMOVAL_ALL = Rule("removal-all", 100, timedelta(hours=1), REMOVAL_MESSAGE)
LIMIT = LOGIN_PAIR.limit  # the documented login limit per email and address
WINDOW = LOGIN_PAIR.window
LONGEST_WINDOW = max(r.window for r in (LOGIN_PAIR, LOGIN_ACCOUNT, LOGIN_ADDRESS,
                                        REMOVAL_ADDRESS, REMOVAL_HANDLE, REMOVAL_ALL))


def key(salt: str, rule: Rule, *parts: str | None) -> str:
    """The stored key of `parts` under `rule` (emails and handles compared lowercased)."""
    text = "|".join([salt, rule.name, *((p or "unknown").strip().lower() for p in parts)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def login_keys(salt: str, email: str, client_ip: str | None) -> list[tuple[Rule, str]]:
    return [(LOGIN_PAIR, key(salt, LOGIN_PAIR, email, client_ip)),
            (LOGIN_ACCOUNT, key(salt, LOGIN_ACCOUNT, email)),
            (LOGIN_ADDRESS, key(salt, LOGIN_ADDRESS, client_ip))]


def removal_keys(salt: str, handle: str, client_ip: str | None) -> list[tuple[Rule, str]]:
    return [(REMOVAL_ADDRESS, key(salt, REMOVAL_ADDRESS, client_ip)),
            (REMOVAL_HANDLE, key(salt, REMOVAL_HANDLE, handle.lstrip("@"))),
            (REMOVAL_ALL, key(salt, REMOVAL_ALL, "all"))]


@dataclass
class Attempt:
    allowed: bool
    ids: list[int] = field(default_factory=list)  # this attempt's rows
    refused_by: Rule | None = None

    @property
    def message(self) -> str:
        return self.refused_by.message if self.refused_by else ""


def attempt(*, session: Session, keys: list[tuple[Rule, str]],
            limits: dict[str, int] | None = None, now: datetime | None = None) -> Attempt:
    """Count one attempt against every key and say whether all are within their limits.

    Commits the session (the next attempt must see this one): call it before anything else is
    written. `limits` overrides rules' limits by name (tests).
    """
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        for _, k in sorted(keys, key=lambda pair: pair[1]):  # one order: no deadlocks
            session.execute(text("SELECT pg_advisory_xact_lock(:lock)"),
                            {"lock": int(k[:15], 16)})
    rows = session.execute(insert(RateLimitHit).returning(RateLimitHit.id),
                           [{"key_hash": k, "at": now} for _, k in keys]).scalars().all()
    result = Attempt(True, list(rows))
    for rule, k in keys:
        limit = (limits or {}).get(rule.name, rule.limit)
        count = session.execute(select(func.count()).select_from(RateLimitHit).where(
            RateLimitHit.key_hash == k, RateLimitHit.at > now - rule.window)).scalar_one()
        if count > limit:
            result.allowed, result.refused_by = False, rule
            break
    if not result.allowed:
        release(session=session, attempt=result)
    session.commit()
    _prune(session, now)
    return result


def release(*, session: Session, attempt: Attempt) -> None:
    """Stop counting an attempt (a login that succeeded, a refused one); the caller commits."""
    if attempt.ids:
        session.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(attempt.ids)))
        attempt.ids = []


def clear(*, session: Session, key_hash: str) -> None:
    """Forget a key's attempts (a successful login clears its email and address pair)."""
    session.execute(delete(RateLimitHit).where(RateLimitHit.key_hash == key_hash))


def _prune(session: Session, now: datetime) -> None:
    # Bookkeeping: rows past every window. Best-effort, so a busy database never fails a login.
    cutoff = now - LONGEST_WINDOW
    best_effort(session.get_bind(), lambda c: c.execute(
        delete(RateLimitHit).where(RateLimitHit.at < cutoff)), what="rate limit clean-up")
