"""The app factory and its configuration (perks.create_app, perks.config, perks.db)."""

import pytest
from sqlalchemy import text

from perks import create_app
from perks.config import DEV_SECRET_KEY


def test_testing_config_is_applied(app):
    assert app.config["PERKS_ENV"] == "testing"
    assert app.config["SECRET_KEY"] == "test-secret-key-for-pytest"


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PERKS_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("PERKS_ENV", "development")
    app = create_app({"INSTANCE_PATH": tmp_path})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("PERKS_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": tmp_path, "PERKS_ENV": "development"})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'perks.db'}"


@pytest.mark.parametrize("secret", [DEV_SECRET_KEY, "changeme", "short"])
def test_production_refuses_a_default_or_weak_secret(monkeypatch, tmp_path, secret):
    monkeypatch.setenv("PERKS_SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="secret"):
        create_app({"INSTANCE_PATH": tmp_path, "PERKS_ENV": "production"})


def test_production_without_a_secret_writes_a_random_one_once(monkeypatch, tmp_path):
    monkeypatch.delenv("PERKS_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": tmp_path, "PERKS_ENV": "production"})
    second = create_app({"INSTANCE_PATH": tmp_path, "PERKS_ENV": "production"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] != DEV_SECRET_KEY
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="PERKS_ENV"):
        create_app({"INSTANCE_PATH": tmp_path, "PERKS_ENV": "staging"})


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(app):
    with app.extensions["perks_engine"].connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_postgresql_url_uses_psycopg(db_app):
    engine = db_app.extensions["perks_engine"]
    assert engine.dialect.name in ("sqlite", "postgresql")
    if engine.dialect.name == "postgresql":
        assert engine.dialect.driver == "psycopg"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM topic")).scalar() >= 40
