"""CLI: `perks forget HANDLE`, `perks optout PATH`. Thin: one session, one call, print."""

import getpass
import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from perks import db
from perks.privacy.forget import forget_account
from perks.privacy.optout import optout_file

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in some containers
        return "cli"


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command("forget")
@click.argument("handle")
@click.option("--platform", help="Only accounts on this platform (default: every platform).")
@json_option
@with_appcontext
def forget_command(handle: str, platform: str | None, as_json: bool) -> None:
    """Erase an account and all derived data, and keep it out of later imports."""
    engine = db.get_engine()
    db.prepare_database(engine)
    with db.session_scope(engine) as session:
        result = forget_account(session=session, handle=handle, platform=platform,
                                actor=_actor())
        session.commit()
    if as_json:
        _echo_json(result.as_dict())
        return
    if result.accounts:
        erased = ", ".join(f"{n} {t}" for t, n in sorted(result.erased.items()) if n)
        click.echo(f"Forgot {result.handle}: {result.accounts} account(s) erased"
                   + (f" with {erased}" if erased else "") + "; suppressed on later imports.")
    else:
        click.echo(f"{result.handle} was not stored; it is suppressed on later imports.")


@click.command("optout")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@with_appcontext
def optout_command(path: Path, as_json: bool) -> None:
    """Forget and suppress every handle in a file (one per line, or CSV with screen_name)."""
    engine = db.get_engine()
    db.prepare_database(engine)
    with db.session_scope(engine) as session:
        try:
            result = optout_file(session=session, path=path, actor=_actor())
        except UnicodeDecodeError:
            raise click.ClickException(f"{path} is not UTF-8 text") from None
        session.commit()
    if as_json:
        _echo_json(result.as_dict())
        return
    click.echo(f"{path}: {result.handles:,} handles, {result.accounts_erased:,} stored accounts "
               f"erased, {result.newly_suppressed:,} newly suppressed")
    if result.invalid:
        click.echo(f"warning: no handle on line(s) {', '.join(map(str, result.invalid[:20]))}",
                   err=True)


COMMANDS = [forget_command, optout_command]
