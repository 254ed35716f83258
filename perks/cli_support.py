"""What every stage's CLI commands share: the --json option, JSON output and the session."""

import errno
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from sqlmodel import Session

from perks import db

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


@contextmanager
def prepared_session() -> Iterator[Session]:
    """Apply migrations, then hand out one session for the command."""
    engine = db.get_engine()
    db.prepare_database(engine)
    with db.session_scope(engine) as session:
        yield session


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
