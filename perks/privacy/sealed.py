"""Sealed text: what perks must keep for a while but not in clear in the database, such as a
pending removal request's handle and contact email (cleared once the request is decided).

Fernet (AES-128-CBC with an HMAC) under a key derived from the app's secret key, so a copy of
the database file, its WAL or a backup does not reveal them. If the secret key changes, sealed
values cannot be read any more: unseal says so with None.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(f"perks-sealed-v1|{secret}".encode("utf-8", "surrogatepass"))
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def seal(text: str | None, *, secret: str) -> str | None:
    if text is None:
        return None
    return _fernet(secret).encrypt(text.encode("utf-8", "surrogatepass")).decode("ascii")


def unseal(token: str | None, *, secret: str) -> str | None:
    """The sealed text, or None when there is none or it was sealed under another key."""
    if not token:
        return None
    try:
        return _fernet(secret).decrypt(token.encode("ascii")).decode("utf-8", "surrogatepass")
    except (InvalidToken, ValueError):
        return None
