"""What every stage's CLI commands share: the --json option, JSON output and the session."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
