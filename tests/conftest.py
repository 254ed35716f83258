"""Fixtures: a fresh database per test (SQLite, and PostgreSQL when reachable), the app, its
client and CLI runner, and small gen_* helpers."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from perks import create_app
from perks.auth.users import create_user, get_or_create_brand
from perks.db import make_engine, prepare_database
from perks.models import SQLModel

PG_ADMIN_URL = os.environ.get("PERKS_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TEST_PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"  # tests need a hash, not a slow one


def _postgres_reachable() -> bool:
    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test: migrations run once per run."""
    path = tmp_path_factory.mktemp("template") / "perks.db"
    engine = make_engine(f"sqlite:///{path}")
    prepare_database(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL database for this run, dropped at the end."""
    if not _postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI expects PostgreSQL at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"perks_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    prepare_database(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template) -> str:
    """A fresh, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "perks.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


def _truncate_all(engine) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name != "topic"]
    with engine.begin() as connection:
        connection.execute(text(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """For tests that are about the app, not the database: SQLite only."""
    path = tmp_path / "perks.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def make_test_app(database_url: str, tmp_path: Path, **overrides):
    config = {"PERKS_ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_PATH": tmp_path,
              "SECRET_KEY": "test-secret-key-for-pytest", "WTF_CSRF_ENABLED": False,
              "PASSWORD_HASH_METHOD": FAST_HASH}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = make_test_app(sqlite_url, tmp_path)
    yield app
    app.extensions["perks_engine"].dispose()


@pytest.fixture
def db_app(database_url, tmp_path):
    """The app on each database backend."""
    app = make_test_app(database_url, tmp_path)
    yield app
    app.extensions["perks_engine"].dispose()


@pytest.fixture
def session(db_app):
    with Session(db_app.extensions["perks_engine"], expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def gen_user(app, email="ana@brand-a.example", brand="Brand A", role="manager"):
    """A user of `brand` whose password is TEST_PASSWORD."""
    with Session(app.extensions["perks_engine"]) as session:
        brand_row = get_or_create_brand(session=session, name=brand)
        create_user(session=session, email=email, password=TEST_PASSWORD, brand=brand_row,
                    role=role, hash_method=FAST_HASH)
        session.commit()
    return email


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email="ana@brand-a.example", password=TEST_PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(app, client):
    gen_user(app)
    return AuthActions(client)


def gen_token(app, email="ana@brand-a.example", name="script") -> str:
    """A live API token of the user with `email`; returns the clear token."""
    from perks.auth.tokens import create_token
    from perks.auth.users import find_user

    with Session(app.extensions["perks_engine"]) as session:
        created = create_token(session=session, user=find_user(session=session, email=email),
                               name=name)
        session.commit()
    return created.secret
