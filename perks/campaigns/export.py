"""Export: a campaign's shortlist as CSV for fulfilment, streamed in chunks.

Columns, in order: rank, status, handle, name, platform, profile_url, followers, score,
percentile, score_version, confidence, topics ("slug:weight" joined by "; "), relevance,
bot_probability, flags (rule flags and the detector's reasons, "; "-joined) and
review_decision (this brand's reviewer's verdict, if any): who gets the perk, where to reach
them, and why they were picked and cleared. No personal text beyond the name (least data in
exports): `bio` and `location` are added only for a campaign with `export_bio_location`.
By default only offered and approved rows; `everything=True` adds the
wait list and dropped rows. Rows that fail the privacy rules now (an account protected, found
to be a minor or opted out after it was approved) are never written. UTF-8, optionally with a
BOM so Excel reads it as UTF-8. Any text cell that starts with = + - @ tab or CR gets a leading
apostrophe, so a spreadsheet shows it instead of running it (OWASP CSV injection). The web
download and `perks export` write these exact bytes.
"""

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from perks.campaigns import rules
from perks.campaigns.allocation import account as account_table
from perks.campaigns.allocation import entries_query
from perks.models import AccountTopic, Campaign, ReviewDecision, Topic

COLUMNS = ("rank", "status", "handle", "name", "platform", "profile_url", "followers", "score",
           "percentile", "score_version", "confidence", "topics", "relevance", "bot_probability",
           "flags", "review_decision")
BIO_LOCATION_COLUMNS = ("bio", "location")  # only when the campaign asks for them
DEFAULT_STATUSES = ("offered", "approved")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 500
PROFILE_URLS = {"twitter": "https://x.com/{}", "x": "https://x.com/{}"}


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will show, not run: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_filename(campaign: Campaign, today: date) -> str:
    """`<campaign-slug>-<date>.csv`."""
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.name.lower()).strip("-") or f"campaign-{campaign.id}"
    return f"{slug[:60]}-{today.isoformat()}.csv"


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


def columns(campaign: Campaign) -> tuple[str, ...]:
    """The CSV header for this campaign."""
    return COLUMNS + (BIO_LOCATION_COLUMNS if campaign.export_bio_location else ())


def _line(row: Any, topics: str, decision: str, bio_location: bool) -> list[Any]:
    url_template = PROFILE_URLS.get(row.platform)
    profile_url = url_template.format(row.screen_name) if url_template else (row.url or "")
    cells = [row.rank if row.rank is not None else "", row.status, row.screen_name,
             row.name or "", row.platform, profile_url, row.followers_count,
             _round(row.influence_score, 1), _round(row.influence_percentile, 1),
             row.score_version or "", row.score_confidence or "", topics,
             _round(row.relevance, 4), _round(row.bot_probability, 3), _flags(row), decision]
    if bio_location:
        cells += [row.description or "", row.location or ""]
    return [safe_cell(cell) for cell in cells]


def export_csv(session: Session, campaign: Campaign, *, everything: bool = False,
               bom: bool = False, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The shortlist CSV as text chunks (each a few hundred rows), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(campaign))
    yield ("\ufeff" if bom else "") + _take(buffer)
    bio_location = campaign.export_bio_location
    query = entries_query(campaign, statuses=None if everything else DEFAULT_STATUSES)
    # The privacy rules hold at export time too, not only when the shortlist was built.
    privacy = rules.passes(rules.ACCOUNTS, rules.Context(campaign, 1.0, datetime.now(UTC).date()),
                            ("privacy",))
    query = query.where(privacy).add_columns(account_table.c.bot_flags)
    if bio_location:
        query = query.add_columns(account_table.c.description, account_table.c.location)
    result = session.execute(query.execution_options(yield_per=chunk_rows))
    for chunk in result.partitions(chunk_rows):
        ids = [row.account_id for row in chunk]
        topics = _topics_by_account(session, ids)
        decisions = _decisions_by_account(session, campaign.brand_id, ids)
        writer.writerows(_line(row, topics.get(row.account_id, ""),
                               decisions.get(row.account_id, ""), bio_location)
                         for row in chunk)
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
