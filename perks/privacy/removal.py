"""Removal requests: anyone may ask, without an account, for a handle to be removed.

A request waits as "pending" until an admin confirms it (which forgets the account and
suppresses the handle, perks.privacy.forget) or rejects it. Once decided, the handle and
contact email are cleared: only the hash stays. Submissions are rate-limited per client IP
with a sliding window counted in the database (so every server worker shares it); the IP is
kept only as a salted hash.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from perks.models import RemovalRequest, utcnow
from perks.privacy.forget import ForgetResult, forget_account
from perks.privacy.suppression import DEFAULT_PLATFORM, SALT, handle_key

RATE_LIMIT = 5  # requests per client IP ...
RATE_WINDOW = timedelta(hours=1)  # ... in this sliding window
_HANDLE = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


class RemovalError(ValueError):
    """A request that cannot be taken or decided; the message says why."""


class RateLimited(RemovalError):
    """Too many requests from one client in the window."""


@dataclass
class Decision:
    request: RemovalRequest
    forgotten: ForgetResult | None = None


def clean_handle(text: str) -> str:
    """A handle from "@ana", "ana" or a profile URL ("https://x.com/ana"); RemovalError if not."""
    text = text.strip().rstrip("/")
    if "/" in text:
        text = text.rsplit("/", 1)[1]
    text = text.lstrip("@").split("?")[0]
    if not _HANDLE.fullmatch(text):
        raise RemovalError("That does not look like a handle: letters, digits, _ . - only.")
    return text


def client_key(client_ip: str | None) -> str:
    return hashlib.sha256(f"{SALT}|client|{client_ip or 'unknown'}".encode()).hexdigest()


def submit_removal(*, session: Session, handle: str, client_ip: str | None,
                   platform: str = DEFAULT_PLATFORM, contact_email: str | None = None,
                   limit: int = RATE_LIMIT, window: timedelta = RATE_WINDOW,
                   now: datetime | None = None) -> RemovalRequest:
    """Store a pending request (flushed); RateLimited past `limit` per client in `window`."""
    now = now or utcnow()
    key = client_key(client_ip)
    recent = session.execute(select(func.count()).where(
        RemovalRequest.client_hash == key, RemovalRequest.created_at >= now - window)
    ).scalar_one()
    if recent >= limit:
        raise RateLimited("Too many requests from your network; please try again later.")
    shown = clean_handle(handle)
    request = RemovalRequest(platform=platform, handle=shown,
                             handle_hash=handle_key(platform, shown),
                             contact_email=(contact_email or "").strip() or None,
                             client_hash=key, created_at=now)
    session.add(request)
    session.flush()
    return request


def pending_requests(*, session: Session) -> list[RemovalRequest]:
    """Pending requests, oldest first."""
    return list(session.exec(select(RemovalRequest).where(  # type: ignore[call-overload]
        RemovalRequest.status == "pending").order_by(RemovalRequest.created_at,
                                                      RemovalRequest.id)).scalars())


def _decide(session: Session, request_id: int, status: str, actor: str) -> RemovalRequest:
    request = session.get(RemovalRequest, request_id)
    if request is None or request.status != "pending":
        raise RemovalError("No pending request with that number.")
    request.status, request.decided_at, request.decided_by = status, utcnow(), actor
    return request


def confirm_request(*, session: Session, request_id: int, actor: str) -> Decision:
    """Forget the requested handle (erase + suppress) and close the request; flushes."""
    request = _decide(session, request_id, "confirmed", actor)
    forgotten = forget_account(session=session, handle=request.handle, platform=request.platform,
                               actor=actor, reason="removal_request")
    _clear(request)
    session.flush()
    return Decision(request, forgotten)


def reject_request(*, session: Session, request_id: int, actor: str) -> Decision:
    """Close the request without forgetting; flushes."""
    request = _decide(session, request_id, "rejected", actor)
    _clear(request)
    session.flush()
    return Decision(request)


def _clear(request: RemovalRequest) -> None:
    # Decided: nothing in clear is needed any more (the hash stays for the record).
    request.handle = None
    request.contact_email = None
