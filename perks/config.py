"""Configuration: in-code defaults, then the environment (PERKS_*), then a test mapping."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

# The placeholder secret only development and testing may run with.
DEV_SECRET_KEY = "perks-development-secret-do-not-use"  # noqa: S105 - refused in production
WEAK_SECRETS = {DEV_SECRET_KEY, "changeme", "change-me", "secret", "dev", "development"}
SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name
ENVIRONMENTS = ("production", "development", "testing")


def default_instance_path() -> Path:
    """The folder for the SQLite file and generated secret: PERKS_INSTANCE_PATH or ./instance."""
    return Path(os.environ.get("PERKS_INSTANCE_PATH", "instance")).resolve()


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings for one app: defaults < environment < overrides (tests pass a mapping)."""
    env = os.environ
    config: dict[str, Any] = {
        "PERKS_ENV": env.get("PERKS_ENV", "production"),
        "DATABASE_URL": env.get("PERKS_DATABASE_URL")
        or f"sqlite:///{instance_path / 'perks.db'}",
        "SECRET_KEY": env.get("PERKS_SECRET_KEY") or _read_instance_secret(instance_path),
        "MAX_CONTENT_LENGTH": int(env.get("PERKS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)),
        "PASSWORD_HASH_METHOD": "scrypt",
        "ACCOUNTS_PER_PAGE": 50,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # A login, remembered or not, lasts two weeks at most (perks.web.extensions checks it).
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "SESSION_MAX_AGE": timedelta(days=14),
        "WTF_CSRF_ENABLED": True,
    }
    config.update(overrides or {})
    if config["PERKS_ENV"] not in ENVIRONMENTS:
        raise RuntimeError(f"PERKS_ENV must be one of {', '.join(ENVIRONMENTS)}")
    production = config["PERKS_ENV"] == "production"
    if not config["SECRET_KEY"]:
        # A random per-instance secret, written once, beats a default anyone can read.
        config["SECRET_KEY"] = (ensure_instance_secret(instance_path).read_text().strip()
                                if production else DEV_SECRET_KEY)
    if production and (config["SECRET_KEY"] in WEAK_SECRETS or len(config["SECRET_KEY"]) < 16):
        raise RuntimeError(
            "Refusing to run in production with a default or short secret key: set "
            "PERKS_SECRET_KEY to a long random value (or unset it to use the instance secret).")
    # Secure cookies need HTTPS; the quick start serves plain HTTP on loopback, so opt in.
    config.setdefault("SESSION_COOKIE_SECURE", env.get("PERKS_SECURE_COOKIES", "") == "1")
    config.setdefault("REMEMBER_COOKIE_SECURE", config["SESSION_COOKIE_SECURE"])
    return config


def _read_instance_secret(instance_path: Path) -> str | None:
    path = instance_path / SECRET_FILE_NAME
    return path.read_text().strip() if path.is_file() else None


def ensure_instance_secret(instance_path: Path) -> Path:
    """Write a random secret key to the instance folder unless one is there already."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / SECRET_FILE_NAME
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path
