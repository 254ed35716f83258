"""Opt-out lists: a file of handles that asked to be left out.

Each handle is forgotten (its stored accounts erased, perks.privacy.forget) and suppressed, so
no later import stores it. That is stronger than setting consent to "opted_out", on purpose:
someone who asked out should not stay profiled in the pool at all. (An import may still carry
``consent: opted_out`` for an account; such accounts are kept but never shortlisted.)

Formats: plain text with one handle per line ("@ana", "ana"; blank lines and lines starting
with # are skipped), or CSV with a header that has a ``screen_name`` or ``handle`` column and
optionally ``platform``. A handle without a platform is forgotten and suppressed on every
platform (perks.platforms).
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from perks.platforms import ANY_PLATFORM, canonical_platform
from perks.privacy.forget import forget_account
from perks.privacy.removal import RemovalError, clean_handle

HANDLE_COLUMNS = ("screen_name", "handle")


@dataclass
class OptoutResult:
    handles: int = 0  # valid handles read
    accounts_erased: int = 0
    newly_suppressed: int = 0  # handles not on the list before
    invalid: list[int] = field(default_factory=list)  # line numbers that held no handle
    campaign_ids: list[int] = field(default_factory=list)  # shortlists the caller refills

    def as_dict(self) -> dict[str, Any]:
        return {"handles": self.handles, "accounts_erased": self.accounts_erased,
                "newly_suppressed": self.newly_suppressed, "invalid_lines": self.invalid}


def read_handles(text: str) -> tuple[list[tuple[int, str, str]], list[int]]:
    """(line, platform, handle) for each handle, and the line numbers that held none."""
    lines = text.lstrip("\ufeff").splitlines()
    first = lines[0].strip().lower() if lines else ""
    header = [cell.strip() for cell in next(csv.reader([first]))] if first else []
    column = next((c for c in HANDLE_COLUMNS if c in header), None)
    found, invalid = [], []
    if column:
        for line, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines)),
                                                  fieldnames=header), start=1):
            if line == 1:
                continue
            named = (row.get("platform") or "").strip()
            _take(found, invalid, line, row.get(column) or "",
                  canonical_platform(named) if named else ANY_PLATFORM)
        return found, invalid
    for line, raw in enumerate(lines, start=1):
        if raw.strip() and not raw.lstrip().startswith("#"):
            _take(found, invalid, line, raw, ANY_PLATFORM)
    return found, invalid


def _take(found: list, invalid: list, line: int, text: str, platform: str) -> None:
    try:
        found.append((line, platform, clean_handle(text)))
    except RemovalError:
        invalid.append(line)


def optout_file(*, session: Session, path: Path, actor: str) -> OptoutResult:
    """Forget and suppress every handle in the file; flushes, the caller refills
    `result.campaign_ids` and commits."""
    handles, invalid = read_handles(path.read_text(encoding="utf-8"))
    result = OptoutResult(handles=len(handles), invalid=invalid)
    for _line, platform, handle in handles:
        done = forget_account(session=session, handle=handle, platform=platform, actor=actor,
                              reason="optout")
        result.accounts_erased += done.accounts
        result.newly_suppressed += done.suppressed_keys > 0
        result.campaign_ids = sorted({*result.campaign_ids, *done.campaign_ids})
    return result
