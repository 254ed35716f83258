"""What every stage's CLI commands share: the app context, the session, --json and progress.

Only click and the standard library load here: `perks --help` builds every command, so Flask,
SQLAlchemy and the stage modules are imported when a command runs, not when it is defined.
"""

import errno
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import update_wrapper
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flask import Flask
    from sqlmodel import Session

    from perks.models import Brand

# The app a `perks` command runs in: perks.create_app without the pages and API to import;
# `perks serve` builds the whole one (app_factory).
COMMAND_APP = "perks:create_app(web=False)"
WEB_APP = "perks"
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def with_appcontext(f: Callable[..., Any]) -> Callable[..., Any]:
    """flask.cli.with_appcontext, with Flask imported when the command runs."""
    @click.pass_context
    def run(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from flask.cli import with_appcontext as flask_with_appcontext

        return ctx.invoke(flask_with_appcontext(f), *args, **kwargs)

    return update_wrapper(run, f)


def app_factory(ctx: click.Context) -> "Callable[[], Flask]":
    """A function that builds a fresh app the way this command's app was found (for workers)."""
    from flask.cli import ScriptInfo

    info = ctx.ensure_object(ScriptInfo)
    # The `perks` group's commands run without the web part; the server needs all of it.
    path = WEB_APP if info.app_import_path == COMMAND_APP else info.app_import_path
    return lambda: ScriptInfo(app_import_path=path, create_app=info.create_app,
                              set_debug_flag=False, load_dotenv_defaults=False).load_app()


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def find_brand(session: "Session", name: str) -> "Brand":
    """The brand called `name` (case-insensitive); a ClickException when there is none."""
    from sqlalchemy import func, select

    from perks.models import Brand

    brand = session.execute(select(Brand).where(func.lower(Brand.name) == name.lower())
                            ).scalars().first()
    if brand is None:
        raise click.ClickException(f"no brand {name!r} (create it with `perks user create`)")
    return brand


@contextmanager
def prepared_session() -> "Iterator[Session]":
    """Apply migrations, then hand out one session for the command."""
    from perks import db

    engine = db.get_engine()
    db.prepare_database(engine)
    with db.session_scope(engine) as session:
        yield session


@contextmanager
def progress(label: str, *, total: int | None = None, unit: str = " rows") -> Iterator[Any]:
    """A progress bar on stderr; yields its update function."""
    from tqdm import tqdm

    # tqdm hides itself when stderr is not a terminal (disable=None), so scripts stay quiet.
    with tqdm(desc=label, total=total, unit=unit, disable=None, file=sys.stderr,
              leave=False) as bar:
        yield bar.update


_FILE_PROBLEMS = {errno.ENOENT: "the folder {folder} does not exist",
                  errno.ENOTDIR: "{folder} is not a folder",
                  errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                  errno.EROFS: "the file system is read-only", errno.ENOSPC: "the disk is full",
                  errno.EISDIR: "it is a folder"}


def file_error(error: OSError, path: Path | str, verb: str = "write") -> str:
    """One line for a file perks could not write (or `verb`), without a traceback."""
    path = Path(path)
    problem = _FILE_PROBLEMS.get(error.errno or 0, error.strerror or str(error))
    return f"cannot {verb} {path}: {problem.format(folder=path.parent)}"


@contextmanager
def written_file(path: Path) -> Iterator[IO[bytes]]:
    """Open `path` for writing through a sibling temporary file, renamed into place only when
    the block succeeds: a failed export leaves no half-written file. An OSError becomes a
    one-line click error (exit 1)."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        with temporary.open("wb") as handle:
            yield handle
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise click.ClickException(file_error(error, path)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
