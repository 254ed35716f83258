"""Scratch databases for the benchmark: never the database a URL names, always removed after."""

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database(server_url: str | None, label: str = "") -> Iterator[str]:
    """A URL for a fresh, empty database: a temp SQLite file when `server_url` is None or
    SQLite, else a new `perks_bench_<random>` database on that PostgreSQL server. Dropped
    (or deleted) on exit, even after an error; the URL's own database is never touched."""
    if server_url is None or server_url.startswith("sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="perks-bench-"))
        try:
            yield f"sqlite:///{folder / f'bench{label}.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    url = make_url(server_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"perks_bench_{secrets.token_hex(6)}"  # hex only: safe to quote into DDL
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
