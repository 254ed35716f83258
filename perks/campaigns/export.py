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
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Text, case, cast, select
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
account_topic = AccountTopic.__table__
topic = Topic.__table__
review_decision = ReviewDecision.__table__


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


def _exported_ids(campaign: Campaign, kind: str):
    """The account ids of the campaign's shortlist rows of `kind` (a subquery)."""
    query = select(entry.c.account_id).where(entry.c.campaign_id == campaign.id)
    if STATUSES[kind]:
        query = query.where(entry.c.status.in_(STATUSES[kind]))
    return query


def _topics_by_account(session: Session, campaign: Campaign, kind: str) -> dict[int, str]:
    """{account_id: "slug:weight; …"}, heaviest first then by slug, for the whole export in
    one query (a few short strings per row, read before the rows stream)."""
    slugs = dict(session.execute(select(topic.c.id, topic.c.slug)).all())
    rows = session.execute(
        select(account_topic.c.account_id, account_topic.c.topic_id, account_topic.c.weight)
        .where(account_topic.c.account_id.in_(_exported_ids(campaign, kind)))).all()
    out: dict[int, list[tuple[float, str]]] = {}
    for account_id, topic_id, weight in rows:
        out.setdefault(account_id, []).append((-weight, slugs[topic_id]))
    return {k: "; ".join(f"{slug}:{-w:.2f}" for w, slug in sorted(v)) for k, v in out.items()}


def _decisions_by_account(session: Session, campaign: Campaign, kind: str) -> dict[int, str]:
    return dict(session.execute(
        select(review_decision.c.account_id, review_decision.c.decision)
        .where(review_decision.c.brand_id == campaign.brand_id,
               review_decision.c.account_id.in_(_exported_ids(campaign, kind)))).all())


def _flags(bot_flags: list | None, bot_reasons: list | None) -> str:
    reasons = [r.get("text", "") if isinstance(r, dict) else str(r) for r in (bot_reasons or [])]
    return "; ".join([*(bot_flags or []), *reasons])


def _approved_at(decided_at: datetime | None) -> str:
    if decided_at is None:
        return ""
    at = decided_at if decided_at.tzinfo else decided_at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _text(value: str) -> str:
    """safe_cell for a cell known to be text (the formula check only text needs)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


# The row values a line reads, in export_query's column order (unpacked by position: a Row's
# attribute lookup costs about a microsecond each, more than the CSV writing of the cell).
FIELDS = ("status", "account_id", "screen_name", "name", "platform", "url", "decided_by_email",
          "decided_at", "rank", "relevance", "followers_count", "influence_score",
          "influence_percentile", "score_version", "score_confidence", "bot_probability",
          "bot_flags", "bot_reasons")


def _line(values: tuple, head: list[str], kind: str, extra: Mapping[str, dict[int, str]]
          ) -> list:
    """One CSV row from an export_query row: `FIELDS`, then bio and location if asked.
    `head` is the campaign and perk cells, made safe once per export; every other text cell
    goes through `_text`, numbers as they are (a number runs nothing)."""
    (status, account_id, screen_name, name, platform, url, decided_by_email, decided_at, rank,
     relevance, followers, score, percentile, score_version, confidence, bot, bot_flags,
     bot_reasons) = values[:18]
    approved = status == "approved"
    if account_id in extra["attention"]:  # approved, but no longer qualifies: say why
        status = f"{status}, needs attention: {extra['attention'][account_id]}"
    cells = [*head, _text(screen_name), _text(name or ""), _text(platform),
             _text(profile_url(platform, screen_name, url)), _text(status),
             _text(decided_by_email or "") if approved else "",
             _approved_at(decided_at) if approved else ""]
    if kind == "analyst":
        cells += [rank if rank is not None else "",
                  "" if relevance is None else round(relevance, 4), followers,
                  "" if score is None else round(score, 1),
                  "" if percentile is None else round(percentile, 1),
                  _text(score_version or ""), safe_cell(confidence or ""),
                  _text(extra["topics"].get(account_id, "")),
                  "" if bot is None else round(bot, 3),
                  _text(_flags(_json_list(bot_flags), _json_list(bot_reasons))),
                  _text(extra["decisions"].get(account_id, ""))]
    if len(values) > 18:  # bio and location
        cells += [_text(values[18] or ""), _text(values[19] or "")]
    return cells


def _json_list(text: str | None) -> list:
    # JSON columns are read as their text and decoded only when not empty: most rows have no
    # flags and no reasons, and a decoder call per cell cost more than writing the row.
    return json.loads(text) if text and text not in ("[]", "null") else []


def export_query(campaign: Campaign, kind: str = "approved", today: date | None = None):
    """The export's rows: the `FIELDS` (then bio and location when the campaign asks) of the
    shortlist entries of `kind`, in rank order, less those failing the privacy rules now."""
    columns = [entry.c.status, entry.c.account_id, account_table.c.screen_name,
               account_table.c.name, account_table.c.platform, account_table.c.url,
               users.c.email.label("decided_by_email"),
               case((entry.c.status == "approved", entry.c.updated_at)).label("decided_at"),
               entry.c.rank, entry.c.relevance, account_table.c.followers_count,
               account_table.c.influence_score, account_table.c.influence_percentile,
               account_table.c.score_version, account_table.c.score_confidence,
               account_table.c.bot_probability,
               cast(account_table.c.bot_flags, Text).label("bot_flags"),
               cast(account_table.c.bot_reasons, Text).label("bot_reasons")]
    if campaign.export_bio_location:
        columns += [account_table.c.description, account_table.c.location]
    # The privacy rules hold at export time too, not only when the shortlist was built.
    privacy = rules.passes(rules.ACCOUNTS,
                           rules.Context(campaign, 1.0, today or datetime.now(UTC).date()),
                           ("privacy",))
    return (entries_query(campaign, statuses=STATUSES[kind]).with_only_columns(*columns)
            .where(privacy).outerjoin(users, users.c.id == entry.c.decided_by))


def export_csv(session: Session, campaign: Campaign, *, kind: str = "approved",
               excel: bool = False, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The shortlist CSV of `kind` as text chunks (each a few hundred rows), header first."""
    if kind not in KINDS:
        raise ExportError(f"kind must be one of {', '.join(KINDS)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(campaign, kind))
    yield ("\ufeff" if excel else "") + _take(buffer)
    # Approved entries that stopped qualifying (few: at most the perk quantity), read first.
    extra: dict[str, dict[int, str]] = {"topics": {}, "decisions": {},
                                        "attention": needs_attention(session, campaign)}
    if kind == "analyst":
        extra |= {"topics": _topics_by_account(session, campaign, kind),
                  "decisions": _decisions_by_account(session, campaign, kind)}
    head = [safe_cell(campaign.name), safe_cell(campaign.perk_description)]
    result = session.execute(export_query(campaign, kind).execution_options(yield_per=chunk_rows))
    for chunk in result.partitions(chunk_rows):
        writer.writerows([_line(row, head, kind, extra) for row in chunk])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
