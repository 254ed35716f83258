"""CLI: `perks campaign create|list`, `perks shortlist CAMPAIGN`, `perks export CAMPAIGN -o FILE`.

Thin: parse options, open one session, call the campaign modules, print. The campaign modules
load when a command runs, so `perks --help` does not wait for them.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from perks.cli.support import (
    echo_json,
    find_brand,
    json_option,
    prepared_session,
    with_appcontext,
    written_file,
)

if TYPE_CHECKING:
    from perks.models import Campaign


def campaign_dict(campaign: "Campaign", brand_name: str | None = None) -> dict[str, Any]:
    data = campaign.model_dump(exclude={"brand_id"})
    return {"brand": brand_name, **data} if brand_name is not None else data


class _CampaignGroup(click.Group):
    """`create` is built on first use: its options come from the campaign schema (pydantic),
    which `perks --help` should not wait for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "create"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "create" and name not in self.commands:
            self.add_command(_create_command())
        return super().get_command(ctx, name)


@click.group("campaign", cls=_CampaignGroup)
def campaign_group() -> None:
    """Create and list campaigns."""


def _create_command() -> click.Command:
    from perks.campaigns.cli_options import campaign_options, describe_problems

    @click.command("create")
    @click.option("--brand", required=True, help="The brand's name.")
    @campaign_options
    @json_option
    @with_appcontext
    def campaign_create_command(brand: str, as_json: bool, **data: Any) -> None:
        """Create a campaign, as the web form does (the options are the form's fields)."""
        from perks.campaigns import service
        from perks.campaigns.store import CampaignError

        with prepared_session() as session:
            brand_row = find_brand(session, brand)
            try:
                campaign = service.create(session=session, brand_id=brand_row.id, data=data)
            except CampaignError as error:
                raise click.ClickException(describe_problems(error.problems)) from None
            session.commit()
            created = campaign_dict(campaign, brand_row.name)
        if as_json:
            echo_json(created)
        else:
            click.echo(f"Created campaign {created['id']}: {created['name']} for "
                       f"{brand_row.name}")

    return campaign_create_command


@campaign_group.command("list")
@click.option("--brand", help="Only this brand's campaigns.")
@json_option
@with_appcontext
def campaign_list_command(brand: str | None, as_json: bool) -> None:
    """List campaigns, newest first."""
    from sqlalchemy import select

    from perks.campaigns.store import list_campaigns
    from perks.models import Brand
    from perks.topics import current_taxonomy, missing_slugs

    with prepared_session() as session:
        brand_id = find_brand(session, brand).id if brand else None
        names = dict(session.execute(select(Brand.id, Brand.name)).all())
        campaigns = list_campaigns(session=session, brand_id=brand_id)
        gone = missing_slugs({c.id: c.topics for c in campaigns}, current_taxonomy())
        rows = [campaign_dict(c, names.get(c.brand_id)) | {"missing_topics": gone.get(c.id, [])}
                for c in campaigns]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No campaigns.")
    for row in rows:
        click.echo(f"{row['id']:>5}  {row['name']}  ({row['brand']}; {row['quantity']} perks; "
                   f"topics {', '.join(row['topics'])})")
        if row["missing_topics"]:
            gone_text = ", ".join(row["missing_topics"])
            click.echo(f"       topics no longer in the taxonomy: {gone_text} "
                       "(edit the campaign or restore them in the taxonomy file)")


def _campaign(session: Any, ref: str) -> "Campaign":
    from perks.campaigns.store import CampaignError, find_campaign

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
    from perks.campaigns import matching, service

    with prepared_session() as session:
        campaign = _campaign(session, campaign_ref)
        threshold = service.threshold(campaign)
        funnel = matching.funnel(session, campaign, bot_threshold=threshold)
        counts = service.refresh(session, campaign)
        session.commit()
        rows = service.shortlist(session, campaign, per_page=top or 1).items[:top]
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
    from sqlalchemy import select

    from perks.campaigns.attention import needs_attention
    from perks.models import Account

    found = needs_attention(session, campaign)
    handles = dict(session.execute(select(Account.id, Account.screen_name)
                                   .where(Account.id.in_(found))).all()) if found else {}
    return [{"handle": handles[i], "reason": reason} for i, reason in sorted(found.items())]


@click.command("export")
@click.argument("campaign_ref", metavar="CAMPAIGN")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
# The kinds are perks.campaigns.export.KINDS, named here so `perks --help` needs no import.
@click.option("--kind", type=click.Choice(("approved", "all", "analyst")), default="approved",
              show_default=True,
              help="approved: who gets the perk; all: every shortlist row; analyst: every row "
                   "with the model columns.")
@click.option("--all", "everything", is_flag=True, help="Same as --kind all.")
@click.option("--excel", "--bom", "excel", is_flag=True,
              help="Start with a UTF-8 byte-order mark, so Excel and LibreOffice read accents "
                   "and emoji right.")
@with_appcontext
def export_command(campaign_ref: str, output: Path, kind: str, everything: bool,
                   excel: bool) -> None:
    """Write the shortlist CSV, byte for byte as the web download."""
    from perks.campaigns import service

    kind = "all" if everything and kind == "approved" else kind
    with prepared_session() as session:
        campaign = _campaign(session, campaign_ref)
        result = service.export(session, campaign, kind=kind, excel=excel)
        with written_file(output) as handle:
            for chunk in result.chunks:
                handle.write(chunk.encode("utf-8"))
    click.echo(f"Wrote {output} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", err=True)

COMMANDS = [campaign_group, shortlist_command, export_command]
