"""The `perks` console script: every stage's commands in one group (== `flask --app perks`).

One module per stage group holds its commands; perks.cli.support has what they share. The
modules import only click at the top and load Flask, SQLAlchemy, scikit-learn and the stage
modules inside the command that needs them, so `perks --help` answers at once.
"""

import sys
from typing import TYPE_CHECKING, Any

import click

from perks.cli import (
    accounts,
    auth,
    bench,
    campaigns,
    detection,
    importing,
    privacy,
    review,
    scoring,
    setup,
    topics,
)
from perks.cli.support import COMMAND_APP

if TYPE_CHECKING:
    from flask import Flask

# In flow order: set-up, import, accounts, scoring, topics, detection, campaigns, review, privacy,
# users and tokens, the benchmark.
MODULES = (setup, importing, accounts, scoring, topics, detection, campaigns, review, privacy,
           auth, bench)


def commands() -> list[click.Command]:
    return [command for module in MODULES for command in module.COMMANDS]


def register(app: "Flask") -> None:
    """Add every command to the app's command group, for `flask --app perks`."""
    for command in commands():
        app.cli.add_command(command)


def perks_version() -> str:
    """The installed perks distribution's version (pyproject.toml is its one home)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("perks")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _show_version(ctx: click.Context, _param: Any, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"perks {perks_version()}")
        ctx.exit()


@click.group("perks", help="perks: perks campaigns with explainable scores and a human check "
                           "on bots. Configured by PERKS_* environment variables (README).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_version, help="Show perks' version and exit.")
@click.pass_context
def cli(ctx: click.Context) -> None:
    if ctx.obj is None:
        from flask.cli import ScriptInfo

        # The app by its import name, as `flask --app perks` finds it, without the web part
        # (perks serve builds the whole app for its workers: perks.cli.support.app_factory).
        ctx.obj = ScriptInfo(app_import_path=COMMAND_APP, set_debug_flag=False,
                             load_dotenv_defaults=False)


for _command in commands():
    cli.add_command(_command)


def main() -> None:
    try:
        cli.main(prog_name="perks")
    except OSError as error:
        # Any command that writes a file (a model, a rejects file, the instance folder) ends
        # with one line and exit 1, not a traceback; `perks export` says so itself.
        from perks.cli.support import file_error

        target = error.filename or ""
        click.echo(f"Error: {file_error(error, target, 'use') if target else error}", err=True)
        sys.exit(1)
