"""Export: a campaign's shortlist as CSV for fulfilment, streamed in chunks.

Three kinds, each a file a different person signs off on:

- ``approved`` (the default): the accounts a manager approved, i.e. who gets the perk. Columns:
  campaign, perk, handle, name, platform, profile_url, status, approved_by, approved_at.
- ``all``: the same columns for every shortlist row (offered, approved, wait-listed, dropped),
  for planning before the approvals are in.
- ``analyst``: every row with the internal model columns added after the fulfilment ones:
  rank, relevance, followers, score, percentile, score_version, confidence, topics
  ("slug:weight" joined by "; "), bot_probability, flags (rule flags and the detector's reasons)
  and review_decision.

No personal text beyond the name (least data in exports): `bio` and `location` are added only
for a campaign with `export_bio_location`. Rows that fail the privacy rules now (an account
protected, found to be a minor or opted out after it was approved) are never written.

UTF-8; the "for Excel" variant starts with a byte-order mark, which is how Excel and
LibreOffice's import dialog recognise UTF-8 (accents and emoji intact). Any text cell that
starts with = + - @ tab or CR gets a leading apostrophe, so a spreadsheet shows it instead of
running it (OWASP CSV injection). The web download, the API and `perks export` write these
exact bytes, under the name `<campaign-slug>_<kind>_<date>.csv`.
"""

import csv
import io
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from perks.campaigns import rules
from perks.campaigns.allocation import account as account_table
from perks.campaigns.allocation import entries_query, entry
from perks.campaigns.attention import needs_attention
from perks.models import AccountTopic, Campaign, ReviewDecision, Topic, User

KINDS = ("approved", "all", "analyst")
STATUSES = {"approved": ("approved",), "all": None, "analyst": None}
FULFILMENT_COLUMNS = ("campaign", "perk", "handle", "name", "platform", "profile_url", "status",
                      "approved_by", "approved_at")
ANALYST_COLUMNS = ("rank", "relevance", "followers", "score", "percentile", "score_version",
                   "confidence", "topics", "bot_probability", "flags", "review_decision")
BIO_LOCATION_COLUMNS = ("bio", "location")  # only when the campaign asks for them
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 500
PROFILE_URLS = {"twitter": "https://x.com/{}", "x": "https://x.com/{}",
                "instagram": "https://www.instagram.com/{}/",
                "tiktok": "https://www.tiktok.com/@{}"}
users = User.__table__


class ExportError(ValueError):
    """An export request perks cannot answer (an unknown kind)."""


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will show, not run: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def profile_url(platform: str, screen_name: str, url: str | None = None) -> str:
    """The account's profile page on its platform; its own URL for a platform we do not know."""
    template = PROFILE_URLS.get(platform)
    return template.format(screen_name) if template and screen_name else (url or "")


def options(args: Mapping[str, str]) -> dict[str, Any]:
    """`kind` and `excel` from a request's query (`kind=`, `excel=1`; `all=1` and `bom=1` are the
    older spellings scripts may still send). Raises ExportError for an unknown kind."""
    kind = args.get("kind") or ("all" if args.get("all") == "1" else "approved")
    if kind not in KINDS:
        raise ExportError(f"kind must be one of {', '.join(KINDS)}")
    return {"kind": kind, "excel": args.get("excel") == "1" or args.get("bom") == "1"}


def export_filename(campaign: Campaign, today: date, kind: str = "approved",
                    excel: bool = False) -> str:
    """`<campaign-slug>_<kind>_<date>.csv`, e.g. `spring-yoga-mats_approved_2026-12-01.csv`;
    the Excel variant says so (`…_approved-excel_…`), so the downloads never share a name."""
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.name.lower()).strip("-") or f"campaign-{campaign.id}"
    return f"{slug[:60]}_{kind}{'-excel' if excel else ''}_{today.isoformat()}.csv"


def columns(campaign: Campaign, kind: str = "approved") -> tuple[str, ...]:
    """The CSV header for this campaign and kind."""
    return (FULFILMENT_COLUMNS + (ANALYST_COLUMNS if kind == "analyst" else ())
            + (BIO_LOCATION_COLUMNS if campaign.export_bio_location else ()))


def _round(value: float | None, digits: int) -> float | str:
    return "" if value is None else round(value, digits)


def _topics_by_account(session: Session, account_ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(AccountTopic.account_id, Topic.slug, AccountTopic.weight)
        .join(Topic, Topic.id == AccountTopic.topic_id)
        .where(AccountTopic.account_id.in_(account_ids))
        .order_by(AccountTopic.account_id, AccountTopic.weight.desc(), Topic.slug))
    out: dict[int, list[str]] = {}
    for account_id, slug, weight in rows:
        out.setdefault(account_id, []).append(f"{slug}:{weight:.2f}")
    return {k: "; ".join(v) for k, v in out.items()}


def _decisions_by_account(session: Session, brand_id: int,
                          account_ids: list[int]) -> dict[int, str]:
    return dict(session.execute(
        select(ReviewDecision.account_id, ReviewDecision.decision)
        .where(ReviewDecision.brand_id == brand_id,
               ReviewDecision.account_id.in_(account_ids))).all())


def _flags(row: Any) -> str:
    reasons = [r.get("text", "") if isinstance(r, dict) else str(r)
               for r in (row.bot_reasons or [])]
    return "; ".join([*(row.bot_flags or []), *reasons])


def _approved_at(row: Any) -> str:
    if row.status != "approved" or row.decided_at is None:
        return ""
    at = row.decided_at if row.decided_at.tzinfo else row.decided_at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _line(row: Any, campaign: Campaign, kind: str, extra: Mapping[str, dict[int, str]]) -> list:
    approved = row.status == "approved"
    status = row.status
    if row.account_id in extra["attention"]:  # approved, but no longer qualifies: say why
        status = f"{row.status}, needs attention: {extra['attention'][row.account_id]}"
    cells = [campaign.name, campaign.perk_description, row.screen_name, row.name or "",
             row.platform, profile_url(row.platform, row.screen_name, row.url), status,
             (row.decided_by_email or "") if approved else "", _approved_at(row)]
    if kind == "analyst":
        cells += [row.rank if row.rank is not None else "", _round(row.relevance, 4),
                  row.followers_count, _round(row.influence_score, 1),
                  _round(row.influence_percentile, 1), row.score_version or "",
                  row.score_confidence or "", extra["topics"].get(row.account_id, ""),
                  _round(row.bot_probability, 3), _flags(row),
                  extra["decisions"].get(row.account_id, "")]
    if campaign.export_bio_location:
        cells += [row.description or "", row.location or ""]
    return [safe_cell(cell) for cell in cells]


def export_csv(session: Session, campaign: Campaign, *, kind: str = "approved",
               excel: bool = False, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The shortlist CSV of `kind` as text chunks (each a few hundred rows), header first."""
    if kind not in KINDS:
        raise ExportError(f"kind must be one of {', '.join(KINDS)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(campaign, kind))
    yield ("\ufeff" if excel else "") + _take(buffer)
    query = entries_query(campaign, statuses=STATUSES[kind])
    # The privacy rules hold at export time too, not only when the shortlist was built.
    privacy = rules.passes(rules.ACCOUNTS, rules.Context(campaign, 1.0, datetime.now(UTC).date()),
                           ("privacy",))
    query = (query.where(privacy)
             .outerjoin(users, users.c.id == entry.c.decided_by)
             .add_columns(account_table.c.bot_flags, entry.c.updated_at.label("decided_at"),
                          users.c.email.label("decided_by_email")))
    if campaign.export_bio_location:
        query = query.add_columns(account_table.c.description, account_table.c.location)
    # Approved entries that stopped qualifying (few: at most the perk quantity), read first.
    attention = needs_attention(session, campaign)
    result = session.execute(query.execution_options(yield_per=chunk_rows))
    for chunk in result.partitions(chunk_rows):
        extra: dict[str, dict[int, str]] = {"topics": {}, "decisions": {},
                                            "attention": attention}
        if kind == "analyst":
            ids = [row.account_id for row in chunk]
            extra |= {"topics": _topics_by_account(session, ids),
                      "decisions": _decisions_by_account(session, campaign.brand_id, ids)}
        writer.writerows(_line(row, campaign, kind, extra) for row in chunk)
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
