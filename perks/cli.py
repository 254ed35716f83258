"""The `perks` console script: Flask's command group around create_app (== `flask --app perks`)."""

import sys

import click
from flask.cli import FlaskGroup

from perks import create_app

# The app is fixed and configured from PERKS_* variables, so Flask's --app/--env-file/--debug
# options would only confuse `perks --help`; its --version would print Flask's version.
_FLASK_ONLY_OPTIONS = {"app", "env_file", "debug", "version"}


def perks_version() -> str:
    """The installed perks distribution's version (pyproject.toml is its one home)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("perks")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"perks {perks_version()}")
        ctx.exit()


def main() -> None:
    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False,
                       load_dotenv=False, set_debug_flag=False,
                       help="perks: perks campaigns with explainable scores and a human check "
                            "on bots. Configured by PERKS_* environment variables (README).")
    group.params = [p for p in group.params if p.name not in _FLASK_ONLY_OPTIONS]
    group.params.append(click.Option(["--version"], is_flag=True, expose_value=False,
                                     is_eager=True, callback=_print_version,
                                     help="Show perks' version and exit."))
    try:
        group(prog_name="perks")
    except OSError as error:
        # Any command that writes a file (a model, a rejects file, the instance folder) ends
        # with one line and exit 1, not a traceback; `perks export` says so itself.
        from perks.cli_support import file_error

        target = error.filename or ""
        click.echo(f"Error: {file_error(error, target, 'use') if target else error}", err=True)
        sys.exit(1)
