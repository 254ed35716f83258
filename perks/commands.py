"""CLI commands. Thin: parse options, open a session, call a module, print the result."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from perks import db
from perks.accounts import find_account
from perks.cli_support import echo_json, json_option, prepared_session
from perks.importing import (
    ImportFormatError,
    MappingError,
    expand_paths,
    import_file,
    parse_mapping,
)
from perks.importing.records import RowError, parse_time
from perks.models import ROLES
from perks.profiles import account_summary
from perks.users import UserError, create_user, get_or_create_brand


def register(app: Flask) -> None:
    """Add every stage's commands to the app's command group (and so to `perks`)."""
    from perks.bench.commands import COMMANDS as BENCH_COMMANDS
    from perks.campaigns.commands import COMMANDS as CAMPAIGN_COMMANDS
    from perks.detection.commands import COMMANDS as DETECTION_COMMANDS
    from perks.privacy.commands import COMMANDS as PRIVACY_COMMANDS
    from perks.review.commands import COMMANDS as REVIEW_COMMANDS
    from perks.scoring.commands import COMMANDS as SCORING_COMMANDS
    from perks.tokens_commands import COMMANDS as TOKEN_COMMANDS

    own = [init_command, demo_command, serve_command, import_command, account_command,
           user_group]
    for command in (own + SCORING_COMMANDS + DETECTION_COMMANDS + CAMPAIGN_COMMANDS
                    + REVIEW_COMMANDS + PRIVACY_COMMANDS + TOKEN_COMMANDS + BENCH_COMMANDS):
        app.cli.add_command(command)






@contextmanager
def _progress(label: str) -> Iterator[Any]:
    # tqdm hides itself when stderr is not a terminal (disable=None), so scripts stay quiet.
    with tqdm(desc=label, unit=" rows", disable=None, file=sys.stderr, leave=False) as bar:
        yield bar.update


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema."""
    db.prepare_database(db.get_engine())
    click.echo(f"Database ready: {_safe_url(current_app.config['DATABASE_URL'])}")


@click.command("demo")
@click.option("--accounts", default=5000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@json_option
@with_appcontext
def demo_command(accounts: int, seed: int, as_json: bool) -> None:
    """Create the database, load a synthetic pool and a demo brand and user."""
    from perks.demo import run_demo

    with prepared_session() as session, _progress("demo pool") as progress:
        result = run_demo(session=session, accounts=accounts, seed=seed, progress=progress,
                          hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    summary = {"accounts": {"imported": result.pool.imported, "updated": result.pool.updated},
               "scored": result.scores.accounts, "bots_flagged": result.scores.bots_flagged,
               "campaign": result.campaign, "shortlist": result.shortlist,
               "brand": result.brand, "email": result.email, "password": result.password,
               "database": _safe_url(current_app.config["DATABASE_URL"])}
    if as_json:
        echo_json(summary)
        return
    click.echo(f"Demo pool: {result.pool.imported:,} new and {result.pool.updated:,} refreshed "
               f"accounts in {summary['database']}")
    flagged = result.scores.bots_flagged
    click.echo(f"Scored {result.scores.accounts:,} accounts; " + (
        f"{flagged:,} flagged as likely automated or gamed" if flagged is not None
        else f"bot probabilities {result.scores.bots}"))
    click.echo(f"Brand: {result.brand}, campaign: {result.campaign!r} "
               f"({', '.join(f'{n} {s}' for s, n in sorted(result.shortlist.items()))})")
    click.echo(f"Log in with {result.email} / {result.password} after `perks serve` "
               "at http://127.0.0.1:8000/login")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@with_appcontext
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn."""
    from perks.serve import serve

    db.prepare_database(db.get_engine())  # once, before workers fork, so they never race
    click.echo(f"perks on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    serve(host=host, port=port, workers=workers)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--observed-at", help="When the profiles were seen, for rows that do not say.")
@click.option("--map", "mappings", multiple=True, metavar="SOURCE=FIELD",
              help="Read column or key SOURCE as perks field FIELD (repeatable).")
@click.option("--rejects", type=click.Path(path_type=Path),
              help="Where rejected rows go: a file (one input) or a folder. Default: beside "
                   "the input when that folder is writable, else the instance folder.")
@json_option
@with_appcontext
def import_command(paths: tuple[Path, ...], observed_at: str | None, mappings: tuple[str, ...],
                   rejects: Path | None, as_json: bool) -> None:
    """Import account files (CSV, JSON or JSON Lines) or the supported files in folders.

    Exit status: 0 when every file was imported (some rows may be rejected), 1 when a file
    failed as a whole (nothing from it stored), 2 for a usage error.
    """
    try:
        observed = parse_time(observed_at, "--observed-at") if observed_at else None
        mapping = tuple(parse_mapping(mappings).items())
    except RowError as error:
        raise click.BadParameter(error.reason, param_hint="--observed-at") from None
    except MappingError as error:
        raise click.BadParameter(str(error), param_hint="--map") from None
    files = expand_paths(paths)
    if rejects is not None and len(files) > 1 and not rejects.is_dir():
        raise click.BadParameter("with several files, --rejects must be a folder",
                                 param_hint="--rejects")
    instance = Path(current_app.instance_path)
    results, failures = [], []
    with prepared_session() as session:
        for path in files:
            target = rejects / f"{path.name}.rejects.csv" if rejects and rejects.is_dir() \
                else rejects
            try:
                with _progress(path.name) as progress:
                    result = import_file(session, path, observed_at=observed, mapping=mapping,
                                         rejects_path=target, fallback_dir=instance,
                                         progress=progress)
            except (ImportFormatError, OSError) as error:
                failures.append({"source": str(path), "error": str(error)})
                click.echo(f"error: {error} (nothing from this file was stored)", err=True)
                continue
            results.append(result)
            for warning in result.warnings:
                click.echo(f"warning: {warning}", err=True)
    if not files:
        failures.append({"source": ", ".join(map(str, paths)), "error": "no files to import"})
        click.echo("error: no CSV, JSON or JSON Lines files found", err=True)
    if as_json:
        echo_json({"files": [_result_dict(r) for r in results], "failed": failures})
    else:
        for r in results:
            click.echo(f"{r.source}: {r.imported:,} imported, {r.updated:,} updated, "
                       f"{r.unchanged:,} unchanged, {r.rejected:,} rejected, "
                       f"{r.suppressed:,} suppressed "
                       f"({r.seconds:.2f} s, {r.rows_per_second:,.0f} rows/s)")
            if r.rejects_path:
                click.echo(f"  rejected rows, with line and reason: {r.rejects_path}")
    if failures:
        sys.exit(1)


def _result_dict(result: Any) -> dict[str, Any]:
    return {"source": result.source, "format": result.file_format, "imported": result.imported,
            "updated": result.updated, "unchanged": result.unchanged,
            "rejected": result.rejected, "suppressed": result.suppressed,
            "rejects_file": result.rejects_path,
            "seconds": round(result.seconds, 3), "warnings": result.warnings}


@click.command("account")
@click.argument("handle")
@json_option
@with_appcontext
def account_command(handle: str, as_json: bool) -> None:
    """Show one account: profile, scores, topics and consent."""
    with prepared_session() as session:
        account = find_account(session, handle)
        if account is None:
            raise click.ClickException(f"no account with handle {handle!r}")
        summary = account_summary(session, account)
    if as_json:
        echo_json(summary)
        return
    click.echo(f"@{summary['screen_name']} ({summary['name'] or 'no name'}) on "
               f"{summary['platform']}, id {summary['id']}")
    click.echo(f"  {summary['description'] or '(no bio)'}")
    click.echo(f"  followers {summary['followers_count']:,} · following "
               f"{summary['friends_count']:,} · posts {summary['statuses_count']:,} · "
               f"listed {_count_text(summary['listed_count'])}")
    click.echo(f"  observed {summary['observed_at']} · consent {summary['consent']['state']}"
               + (" · protected" if summary["protected"] else ""))
    if summary["influence_score"] is None:
        click.echo("  score: not scored yet (run `perks score`)")
    else:
        click.echo(f"  influence {summary['influence_score']:.0f}/100, percentile "
                   f"{summary['influence_percentile']:.0f}")
    for topic in summary["topics"]:
        click.echo(f"  topic {topic['label']}: {topic['weight']:.2f} ({topic['source']}; "
                   f"{', '.join(topic['evidence'] or [])})")


@click.group("user")
def user_group() -> None:
    """Manage brand users."""


@user_group.command("create")
@click.argument("email")
@click.option("--brand", required=True, help="The brand's name; created if new.")
@click.option("--role", type=click.Choice(ROLES), default="manager", show_default=True)
@json_option
@with_appcontext
def user_create_command(email: str, brand: str, role: str, as_json: bool) -> None:
    """Create a brand user; the password comes from PERKS_PASSWORD or a prompt."""
    password = os.environ.get("PERKS_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    with prepared_session() as session:
        try:
            brand_row = get_or_create_brand(session=session, name=brand)
            user = create_user(session=session, email=email, password=password, brand=brand_row,
                               role=role, hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        except UserError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        created = {"email": user.email, "brand": brand_row.name, "role": user.role}
    if as_json:
        echo_json(created)
    else:
        click.echo(f"Created {created['email']} ({created['role']}) for {created['brand']}")


def _count_text(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _safe_url(url: str) -> str:
    """The database URL without a password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
