"""`perks account HANDLE`: one account with its scores, topics and consent."""

import click

from perks.cli.support import echo_json, json_option, prepared_session, with_appcontext


@click.command("account")
@click.argument("handle")
@json_option
@with_appcontext
def account_command(handle: str, as_json: bool) -> None:
    """Show one account: profile, scores, topics and consent."""
    from perks.accounts import find_account
    from perks.accounts.profiles import account_summary

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
               f"listed {summary['listed_count']:,}")
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


COMMANDS = [account_command]
