"""`perks account HANDLE`: one account with its scores, topics and consent."""

import click

from perks.cli.support import echo_json, json_option, prepared_session, with_appcontext


@click.command("account")
@click.argument("handle")
@json_option
@with_appcontext
def account_command(handle: str, as_json: bool) -> None:
    """Show one account: profile, activity, score with components and history, bot check with
    reasons, consent and topics (everything --json has)."""
    from perks.accounts import find_account
    from perks.accounts.profiles import account_summary

    with prepared_session() as session:
        account = find_account(session, handle, brand_id=None)  # the operator sees all
        if account is None:
            raise click.ClickException(f"no account with handle {handle!r}")
        summary = account_summary(session, account)
    if as_json:
        echo_json(summary)
        return
    from perks.accounts.report import account_lines

    click.echo("\n".join(account_lines(summary)))

COMMANDS = [account_command]
