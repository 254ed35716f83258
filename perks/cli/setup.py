"""`perks init`, `perks demo`, `perks serve`: the database, the demo pool and the web server."""

import click

from perks.cli.support import (
    app_factory,
    echo_json,
    json_option,
    prepared_session,
    progress,
    with_appcontext,
)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema."""
    from flask import current_app

    from perks import db

    db.prepare_database(db.get_engine())
    click.echo(f"Database ready: {_safe_url(current_app.config['DATABASE_URL'])}")


@click.command("demo")
@click.option("--accounts", default=5000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@json_option
@with_appcontext
def demo_command(accounts: int, seed: int, as_json: bool) -> None:
    """Create the database, load a synthetic pool and a demo brand and user."""
    from flask import current_app

    from perks.demo import run_demo

    with prepared_session() as session, progress("demo pool") as update:
        result = run_demo(session=session, accounts=accounts, seed=seed, progress=update,
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
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn."""
    from perks import db
    from perks.serve import serve

    db.prepare_database(db.get_engine())  # once, before workers fork, so they never race
    click.echo(f"perks on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    serve(app_factory(ctx), host=host, port=port, workers=workers)


def _safe_url(url: str) -> str:
    """The database URL without a password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


COMMANDS = [init_command, demo_command, serve_command]
