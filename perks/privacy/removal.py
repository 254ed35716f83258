"""Removal requests: anyone may ask, without an account, for a handle to be removed.

A request names a platform or none (then it covers every platform, perks.platforms). It waits
as "pending" until an operator confirms it (which forgets the account and suppresses the
handle, perks.privacy.forget) or rejects it. While pending, the handle and contact email are
sealed (perks.privacy.sealed); once decided they are cleared and only the hash stays. The public
form is rate-limited by perks.auth.throttle; the client address is kept only as a salted hash.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from perks.models import RemovalRequest, utcnow
from perks.platforms import ANY_PLATFORM, canonical_platform
from perks.privacy.forget import ForgetResult, forget_account
from perks.privacy.sealed import seal, unseal
from perks.privacy.suppression import SALT, handle_key

_HANDLE = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


class RemovalError(ValueError):
    """A request that cannot be taken or decided; the message says why."""


@dataclass
class Decision:
    request: RemovalRequest
    forgotten: ForgetResult | None = None


@dataclass
class PendingRequest:
    """A pending request as an operator sees it, unsealed (handle None: sealed under an older
    secret key, so it can only be rejected)."""

    id: int
    created_at: datetime
    platform: str
    handle: str | None
    contact_email: str | None


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


def submit_removal(*, session: Session, handle: str, client_ip: str | None, secret: str,
                   platform: str | None = None, contact_email: str | None = None,
                   now: datetime | None = None) -> RemovalRequest:
    """Store a pending request with its handle and contact sealed under `secret` (flushed)."""
    shown = clean_handle(handle)
    platform = canonical_platform(platform) if (platform or "").strip() else ANY_PLATFORM
    request = RemovalRequest(platform=platform, handle=seal(shown, secret=secret),
                             handle_hash=handle_key(platform, shown),
                             contact_email=seal((contact_email or "").strip() or None,
                                                secret=secret),
                             client_hash=client_key(client_ip), created_at=now or utcnow())
    session.add(request)
    session.flush()
    return request


def pending_requests(*, session: Session, secret: str) -> list[PendingRequest]:
    """Pending requests, oldest first, unsealed with `secret`."""
    rows = session.exec(select(RemovalRequest).where(  # type: ignore[call-overload]
        RemovalRequest.status == "pending").order_by(RemovalRequest.created_at,
                                                      RemovalRequest.id)).scalars()
    return [PendingRequest(r.id, r.created_at, r.platform, _handle(r, secret),
                           unseal(r.contact_email, secret=secret)) for r in rows]


def _handle(request: RemovalRequest, secret: str) -> str | None:
    # A request stored before sealing holds the handle in clear (a token never fits _HANDLE).
    if request.handle and _HANDLE.fullmatch(request.handle):
        return request.handle
    return unseal(request.handle, secret=secret)


def _decide(session: Session, request_id: int, status: str, actor: str) -> RemovalRequest:
    request = session.get(RemovalRequest, request_id)
    if request is None or request.status != "pending":
        raise RemovalError("No pending request with that number.")
    request.status, request.decided_at, request.decided_by = status, utcnow(), actor
    return request


def confirm_request(*, session: Session, request_id: int, actor: str,
                    secret: str) -> Decision:
    """Forget the requested handle (erase + suppress, on the request's platform or on all)
    and close the request; flushes."""
    request = _decide(session, request_id, "confirmed", actor)
    handle = _handle(request, secret)
    if handle is None:
        raise RemovalError("This request was sealed under an earlier secret key and cannot be "
                           "read: reject it and ask the person to send it again.")
    forgotten = forget_account(session=session, handle=handle, platform=request.platform,
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
