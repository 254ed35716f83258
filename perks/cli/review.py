"""`perks review list|decide|adapt|revert|retrain`: the review queue for scripts. Thin wrappers."""

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from perks.cli.support import echo_json, json_option, prepared_session, with_appcontext
from perks.review import REVIEW_DECISIONS, STATES

if TYPE_CHECKING:
    from sqlmodel import Session

    from perks.models import Brand


def _brand(session: "Session", name: str | None) -> "Brand":
    from sqlalchemy import select

    from perks.models import Brand

    if name:
        brand = session.exec(select(Brand).where(Brand.name == name)).scalars().first()
        if brand is None:
            raise click.ClickException(f"no brand named {name!r}")
        return brand
    brands = list(session.exec(select(Brand).limit(2)).scalars())
    if len(brands) != 1:
        raise click.ClickException("several brands (or none): name one with --brand")
    return brands[0]


@click.group("review")
def review_group() -> None:
    """The review queue: flagged accounts and reviewers' decisions."""


@review_group.command("list")
@click.option("--brand", help="The brand's name (needed when there are several).")
@click.option("--campaign", help="Only accounts flagged in this campaign (name or id).")
@click.option("--reason", help="A rule flag id, or 'model' for flagged by probability.")
@click.option("--state", type=click.Choice(STATES), default="pending", show_default=True)
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@click.option("--per-page", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option
@with_appcontext
def list_command(brand: str | None, campaign: str | None, reason: str | None, state: str,
                 page: int, per_page: int, as_json: bool) -> None:
    """List the brand's queue, most important first (relevance x bot probability)."""
    from perks.campaigns.store import CampaignError, find_campaign
    from perks.review.queue import queue_page

    with prepared_session() as session:
        brand_row = _brand(session, brand)
        campaign_id = None
        if campaign:
            try:
                campaign_id = find_campaign(session=session, ref=campaign,
                                            brand_id=brand_row.id).id
            except CampaignError as error:
                raise click.ClickException(str(error)) from None
        result = queue_page(session, brand_id=brand_row.id, campaign_id=campaign_id,
                            reason=reason, state=state, page=page, per_page=per_page)
    if as_json:
        echo_json({"brand": brand_row.name, "total": result.total, "page": result.page,
                    "pages": result.pages, "items": [i.as_dict() for i in result.items]})
        return
    click.echo(f"{result.total} account(s) in the {state} queue of {brand_row.name} "
               f"(page {result.page} of {result.pages})")
    for item in result.items:
        p = "–" if item.probability is None else f"{item.probability:.2f}"
        click.echo(f"  @{item.screen_name:20s} p {p}  importance {item.importance:.3f}  "
                   f"{item.decision or 'undecided'}")
        for reason_text in item.reasons:
            click.echo(f"      - {reason_text}")
        click.echo(f"      campaigns: {', '.join(c['name'] for c in item.campaigns)}")


@review_group.command("decide")
@click.argument("handle")
@click.option("--as", "decision", required=True, type=click.Choice(REVIEW_DECISIONS))
@click.option("--brand", required=True, help="The brand whose decision this is.")
@click.option("--note", help="Why; kept in the audit trail.")
@click.option("--by", "by_email", help="The reviewer's email (a user of the brand).")
@json_option
@with_appcontext
def decide_command(handle: str, decision: str, brand: str, note: str | None,
                   by_email: str | None, as_json: bool) -> None:
    """Decide a flagged account for the brand (audited; shortlists refresh at once)."""
    from perks.accounts import find_account
    from perks.auth.users import find_user
    from perks.review import decisions

    with prepared_session() as session:
        brand_row = _brand(session, brand)
        found = find_account(session, handle, brand_id=brand_row.id)
        if found is None:
            raise click.ClickException(f"no account with handle {handle!r}")
        user_id = None
        if by_email:
            user = find_user(session=session, email=by_email)
            if user is None or user.brand_id != brand_row.id:
                raise click.ClickException(f"{by_email} is not a user of {brand_row.name}")
            user_id = user.id
        before = decisions.current_decision(session=session, brand_id=brand_row.id,
                                            account_id=found.id)
        try:
            after = decisions.decide(session=session, brand_id=brand_row.id,
                                     account_id=found.id, decision=decision, note=note,
                                     user_id=user_id, expected_version=before.version)
        except decisions.DecisionConflict as conflict:
            session.commit()  # keeps the refused decision in the audit trail (outcome "lost")
            raise click.ClickException(str(conflict)) from None
        session.commit()
    if as_json:
        echo_json({"handle": found.screen_name, "brand": brand_row.name,
                    "before": before.decision, "after": after.decision,
                    "version": after.version})
    else:
        click.echo(f"@{found.screen_name}: {before.decision or 'undecided'} -> {after.decision} "
                   f"for {brand_row.name}; shortlists refreshed")


@review_group.command("retrain")
@click.option("--no-rescore", is_flag=True, help="Write the model but leave scores as they are.")
@json_option
@with_appcontext
def retrain_command(no_rescore: bool, as_json: bool) -> None:
    """Retrain the bot model with reviewers' decisions as labels; print metrics before/after,
    bump the model version and rescore the pool (what `perks train --with-reviews` does)."""
    from perks.review.learning import retrain_with_reviews

    def say(message: str) -> None:
        click.echo(f"... {message}", err=True)

    with prepared_session() as session:
        try:
            result = retrain_with_reviews(session=session, rescore=not no_rescore,
                                          progress=None if as_json else say)
        except (FileNotFoundError, ValueError) as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"reviewed rows added: {result.reviewed_rows} ({result.automated} automated, "
               f"{result.genuine} genuine); skipped {result.skipped}")
    click.echo(f"model {result.version_before} -> {result.version_after}")
    for label, m in (("before", result.before), ("after", result.after)):
        r = m["reviewed"]
        agree = (f"agrees with reviewers on {r['agreement']:.0%} of {r['n']} "
                 f"({r['genuine_flagged']} genuine still flagged, {r['automated_missed']} "
                 "automated missed)") if r.get("n") else "no reviewed rows"
        click.echo(f"{label:6s}: 5-fold ROC AUC {m['cv5_roc_auc']}, threshold "
                   f"{m['threshold']['threshold']}: precision {m['precision']}, recall "
                   f"{m['recall']}; {agree}")
    if result.rescored is not None:
        click.echo(f"rescored {result.rescored:,} accounts with {result.version_after}")


@review_group.command("adapt")
@click.option("--brand", help="The brand's name (needed when there are several).")
@json_option
@with_appcontext
def adapt_command(brand: str | None, as_json: bool) -> None:
    """Adapt the bot model to the brand's decisions (quick; only this brand's flags change)."""
    from perks.detection.adapt import adapt_brand
    from perks.review import decisions

    with prepared_session() as session:
        brand_row = _brand(session, brand)
        with _progress("rescoring", as_json) as progress:
            try:
                result = adapt_brand(session=session, brand_id=brand_row.id, progress=progress)
            except (FileNotFoundError, ValueError) as error:
                raise click.ClickException(str(error)) from None
        decisions.refresh_shortlists(session=session, brand_id=brand_row.id)
        session.commit()
    if as_json:
        echo_json({"brand": brand_row.name, **result.as_dict()})
        return
    counts = ", ".join(f"{n} {d}" for d, n in sorted(result.decisions.items())) or "none"
    click.echo(f"{brand_row.name}: adapted to its decisions ({counts}); version "
               f"{result.version} (fit {result.seconds['fit']} s, rescore "
               f"{result.seconds['rescore']} s)")
    click.echo(f"at threshold {result.threshold:.2f}: {result.flagged_before:,} -> "
               f"{result.flagged_after:,} of {result.rescored:,} scored accounts flagged; "
               f"{result.rows_written:,} probabilities changed for this brand only")


@review_group.command("revert")
@click.option("--brand", help="The brand's name (needed when there are several).")
@click.option("--to", "version", help="An earlier adaptation (see --list); default: none, "
                                      "the base model alone.")
@click.option("--list", "listing", is_flag=True, help="List the brand's adaptations.")
@json_option
@with_appcontext
def revert_command(brand: str | None, version: str | None, listing: bool,
                   as_json: bool) -> None:
    """Take the brand back to the base model, or to an earlier adaptation."""
    from perks.detection.adapt import adapter_history, revert_brand
    from perks.review import decisions

    with prepared_session() as session:
        brand_row = _brand(session, brand)
        if listing:
            history = adapter_history(brand_row.id)
            if as_json:
                echo_json(history)
            for item in [] if as_json else history:
                click.echo(f"{'*' if item['active'] else ' '} {item['version']}  "
                           f"{item['decisions']}")
            return
        try:
            result = revert_brand(session=session, brand_id=brand_row.id, version=version)
        except (FileNotFoundError, ValueError) as error:
            raise click.ClickException(str(error)) from None
        decisions.refresh_shortlists(session=session, brand_id=brand_row.id)
        session.commit()
    if as_json:
        echo_json({"brand": brand_row.name, **result.as_dict()})
    else:
        click.echo(f"{brand_row.name}: now on {version or 'the base model ' + result.base_version}")


@review_group.command("audit")
@click.argument("campaign")
@click.option("--brand", help="The brand's name (needed when there are several).")
@click.option("--draw", is_flag=True, help="Draw a new uniform sample of the matched pool.")
@click.option("--size", default=50, show_default=True, type=click.IntRange(10, 500))
@click.option("--seed", type=int, help="Seed for --draw (default: a fresh random sample).")
@click.option("--tolerate", type=click.FloatRange(0, 100),
              help="Suggest the threshold that flags at most this % of genuine accounts.")
@json_option
@with_appcontext
def audit_command(campaign: str, brand: str | None, draw: bool, size: int, seed: int | None,
                  tolerate: float | None, as_json: bool) -> None:
    """The pool audit: how many bots are really in a campaign's pool. Decide the sampled
    accounts with `perks review decide` (or on the web); the estimate follows."""
    from perks.campaigns.store import CampaignError, find_campaign
    from perks.review import audit as pool_audit

    with prepared_session() as session:
        brand_row = _brand(session, brand)
        try:
            found = find_campaign(session=session, ref=campaign, brand_id=brand_row.id)
        except CampaignError as error:
            raise click.ClickException(str(error)) from None
        if draw:
            pool_audit.draw_sample(session=session, campaign=found, size=size, seed=seed)
            session.commit()
        result = pool_audit.campaign_audit(
            session=session, campaign=found,
            tolerated=None if tolerate is None else tolerate / 100)
    e = result.estimate
    if as_json:
        echo_json({"campaign": found.name, "pool_size": result.pool_size,
                   "sample": [{"handle": r["screen_name"], "decision": r["decision"]}
                              for r in result.sample],
                   "estimate": None if e is None else dataclasses.asdict(e),
                   "suggested_threshold": result.suggested_threshold})
        return
    click.echo(f"{found.name}: matched pool {result.pool_size:,}; sample "
               f"{len(result.sample)}, decided {result.decided}")
    if e is None:
        pending = [r["screen_name"] for r in result.sample if r["decision"] is None]
        click.echo("no estimate yet: decide the sample (" + (", ".join(
            "@" + h for h in pending[:10]) + (" ..." if len(pending) > 10 else "")
            if pending else "draw one with --draw") + ")")
        return
    s = e.bot_share
    click.echo(f"bot share {s.value:.0%} (95% interval {s.low:.0%}-{s.high:.0%}): "
               f"{e.bots_in_pool[0]:,} to {e.bots_in_pool[1]:,} accounts")
    for t in e.settings:
        cells = [f"{name} " + (f"{x.value:.0%} ({x.low:.0%}-{x.high:.0%})" if x.n else "-")
                 for name, x in (("precision", t.precision), ("recall", t.recall),
                                 ("genuine flagged", t.genuine_flagged))]
        click.echo(f"  {t.name:12s} {t.threshold:.2f}: " + ", ".join(cells))
    if result.suggested_threshold is not None:
        click.echo(f"threshold {result.suggested_threshold:.2f} flags at most {tolerate:g}% of "
                   "the sample's genuine accounts")


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Any]:
    from tqdm import tqdm  # here, so `perks --help` and other commands never load it

    # tqdm hides itself when stderr is not a terminal (disable=None), so scripts stay quiet.
    with tqdm(desc=label, unit=" accounts", disable=True if quiet else None, file=sys.stderr,
              leave=False) as bar:
        yield bar.update


COMMANDS = [review_group]
