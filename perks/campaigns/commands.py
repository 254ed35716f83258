"""CLI: `perks campaign create|list`, `perks shortlist CAMPAIGN`, `perks export CAMPAIGN -o FILE`.

Thin, like perks.commands: parse options, open one session, call the campaign modules, print.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from perks.campaigns import allocation, matching
from perks.campaigns.export import export_csv
from perks.campaigns.store import (
    SCORE_MODES,
    TOPIC_MODES,
    CampaignError,
    create_campaign,
    find_campaign,
    list_campaigns,
)
from perks.cli_support import echo_json, json_option, prepared_session
from perks.models import Brand, Campaign


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _brand(session: Any, name: str) -> Brand:
    brand = session.execute(select(Brand).where(func.lower(Brand.name) == name.lower())
                            ).scalars().first()
    if brand is None:
        raise click.ClickException(f"no brand {name!r} (create it with `perks user create`)")
    return brand


def campaign_dict(campaign: Campaign, brand_name: str | None = None) -> dict[str, Any]:
    data = campaign.model_dump(exclude={"brand_id"})
    return {"brand": brand_name, **data} if brand_name is not None else data


@click.group("campaign")
def campaign_group() -> None:
    """Create and list campaigns."""


@campaign_group.command("create")
@click.option("--brand", required=True, help="The brand's name.")
@click.option("--name", required=True)
@click.option("--topics", required=True, help="Comma-separated topic slugs, e.g. coffee,baking")
@click.option("--perk", "perk_description", default="", help="What the perk is.")
@click.option("--quantity", default=1, show_default=True, type=int)
@click.option("--perk-value", type=float)
@click.option("--topic-mode", type=click.Choice(TOPIC_MODES), default="any", show_default=True)
@click.option("--min-topic-weight", default=0.0, show_default=True, type=float)
@click.option("--score-mode", type=click.Choice(SCORE_MODES), default="percentile",
              show_default=True)
@click.option("--score-min", default=0.0, show_default=True, type=float)
@click.option("--score-max", default=100.0, show_default=True, type=float)
@click.option("--followers-min", type=int)
@click.option("--followers-max", type=int)
@click.option("--languages", help="Comma-separated language codes, e.g. en,it")
@click.option("--location", "location_contains", help="Location must contain this text.")
@click.option("--bot-strictness", default="balanced", show_default=True,
              help="lenient, balanced, strict or a bot-probability threshold 0–1.")
@click.option("--exclude-recent-days", type=int,
              help="Skip accounts this brand approved for a perk in the last N days.")
@click.option("--one-per-person/--many-per-person", default=True, show_default=True)
@click.option("--starts-on", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--ends-on", type=click.DateTime(["%Y-%m-%d"]))
@json_option
@with_appcontext
def campaign_create_command(brand: str, topics: str, languages: str | None, as_json: bool,
                            starts_on: datetime | None, ends_on: datetime | None,
                            **options: Any) -> None:
    """Create a campaign, as the web form does."""
    data = {**options, "topics": _split(topics), "languages": _split(languages),
            "starts_on": starts_on.date() if starts_on else None,
            "ends_on": ends_on.date() if ends_on else None}
    with prepared_session() as session:
        brand_row = _brand(session, brand)
        try:
            campaign = create_campaign(session=session, brand_id=brand_row.id, data=data)
        except CampaignError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        created = campaign_dict(campaign, brand_row.name)
    if as_json:
        echo_json(created)
    else:
        click.echo(f"Created campaign {created['id']}: {created['name']} for {brand_row.name}")


@campaign_group.command("list")
@click.option("--brand", help="Only this brand's campaigns.")
@json_option
@with_appcontext
def campaign_list_command(brand: str | None, as_json: bool) -> None:
    """List campaigns, newest first."""
    with prepared_session() as session:
        brand_id = _brand(session, brand).id if brand else None
        names = dict(session.execute(select(Brand.id, Brand.name)).all())
        rows = [campaign_dict(c, names.get(c.brand_id))
                for c in list_campaigns(session=session, brand_id=brand_id)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No campaigns.")
    for row in rows:
        click.echo(f"{row['id']:>5}  {row['name']}  ({row['brand']}; {row['quantity']} perks; "
                   f"topics {', '.join(row['topics'])})")


def _campaign(session: Any, ref: str) -> Campaign:
    try:
        return find_campaign(session=session, ref=ref)
    except CampaignError as error:
        raise click.ClickException(str(error)) from None


@click.command("shortlist")
@click.argument("campaign_ref", metavar="CAMPAIGN")
@click.option("--top", default=20, show_default=True, type=click.IntRange(0, 10_000))
@json_option
@with_appcontext
def shortlist_command(campaign_ref: str, top: int, as_json: bool) -> None:
    """Refresh a campaign's shortlist; print its funnel and the top of the list."""
    with prepared_session() as session:
        campaign = _campaign(session, campaign_ref)
        threshold = matching.bot_threshold(campaign.bot_strictness)
        funnel = matching.funnel(session, campaign, bot_threshold=threshold)
        counts = allocation.refresh(session, campaign, bot_threshold=threshold)
        session.commit()
        page = allocation.shortlist_page(session, campaign, per_page=top or 1)
        rows = [{"rank": r.rank, "status": r.status, "handle": r.screen_name,
                 "relevance": r.relevance, "percentile": r.influence_percentile,
                 "score": r.influence_score, "followers": r.followers_count}
                for r in page.items[:top]]
        attention = _attention_rows(session, campaign)
    if as_json:
        echo_json({"campaign": {"id": campaign.id, "name": campaign.name},
                    "funnel": funnel.as_dict(), "statuses": counts, "shortlist": rows,
                    "needs_attention": attention})
        return
    click.echo(f"{campaign.name}: {campaign.quantity} perks, bot threshold {threshold:.2f}")
    for stage in funnel.stages:
        removed = f"-{stage.removed:,}" if stage.key != "pool" else ""
        click.echo(f"  {stage.label:<30} {removed:>10} {stage.remaining:>10,}")
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    for row in rows:
        click.echo(f"  {row['rank'] or '-':>4} {row['status']:<9} @{row['handle']:<24} "
                   f"relevance {row['relevance'] or 0:.3f}")
    for row in attention:
        click.echo(f"  needs attention: @{row['handle']} (approved): {row['reason']}")


def _attention_rows(session: Any, campaign: Any) -> list[dict[str, str]]:
    """Approved entries that no longer qualify (perks.campaigns.attention), by handle."""
    from perks.campaigns.attention import needs_attention
    from perks.models import Account

    found = needs_attention(session, campaign)
    handles = dict(session.execute(select(Account.id, Account.screen_name)
                                   .where(Account.id.in_(found))).all()) if found else {}
    return [{"handle": handles[i], "reason": reason} for i, reason in sorted(found.items())]


@click.command("export")
@click.argument("campaign_ref", metavar="CAMPAIGN")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "everything", is_flag=True, help="Also wait-listed and dropped rows.")
@click.option("--bom", is_flag=True, help="Start with a UTF-8 BOM, for Excel.")
@with_appcontext
def export_command(campaign_ref: str, output: Path, everything: bool, bom: bool) -> None:
    """Write the shortlist CSV, byte for byte as the web download."""
    with prepared_session() as session:
        campaign = _campaign(session, campaign_ref)
        allocation.ensure(session, campaign,
                          bot_threshold=matching.bot_threshold(campaign.bot_strictness))
        session.commit()
        with output.open("wb") as handle:
            for chunk in export_csv(session, campaign, everything=everything, bom=bom):
                handle.write(chunk.encode("utf-8"))
    click.echo(f"Wrote {output} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", err=True)


COMMANDS = [campaign_group, shortlist_command, export_command]
