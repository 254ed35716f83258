"""CLI: `perks forget HANDLE`, `perks optout PATH`. Thin: one session, one call, print.

They run on the server, so they are operator acts: they erase accounts for every brand."""

import getpass
from pathlib import Path

import click

from perks.cli.support import echo_json, json_option, prepared_session, with_appcontext


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in some containers
        return "cli"


@click.command("forget")
@click.argument("handle")
@click.option("--platform", help="Only accounts on this platform (default: every platform).")
@json_option
@with_appcontext
def forget_command(handle: str, platform: str | None, as_json: bool) -> None:
    """Erase an account and all derived data, and keep it out of later imports."""
    from perks.campaigns.allocation import refill
    from perks.db import checkpoint, get_engine
    from perks.privacy.forget import forget_account

    with prepared_session() as session:
        result = forget_account(session=session, handle=handle, platform=platform,
                                actor=_actor())
        refill(session, result.campaign_ids)
        session.commit()
    checkpoint(get_engine())  # the erased rows leave the WAL too
    if as_json:
        echo_json(result.as_dict())
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
    from perks.campaigns.allocation import refill
    from perks.db import checkpoint, get_engine
    from perks.privacy.optout import optout_file

    with prepared_session() as session:
        try:
            result = optout_file(session=session, path=path, actor=_actor())
        except UnicodeDecodeError:
            raise click.ClickException(f"{path} is not UTF-8 text") from None
        refill(session, result.campaign_ids)
        session.commit()
    checkpoint(get_engine())
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"{path}: {result.handles:,} handles, {result.accounts_erased:,} stored accounts "
               f"erased, {result.newly_suppressed:,} newly suppressed")
    if result.invalid:
        click.echo(f"warning: no handle on line(s) {', '.join(map(str, result.invalid[:20]))}",
                   err=True)


COMMANDS = [forget_command, optout_command]
