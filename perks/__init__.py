"""perks: perks campaigns for brands, with explainable scores and a human check on bots."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from perks.config import default_instance_path, load_config
from perks.detection import store as model_store
from perks.paths import TEMPLATES_DIR

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None, *, web: bool = True) -> "Flask":
    """Build the web app; `config` overrides settings (tests pass DATABASE_URL and friends).
    `web=False`: the app a `perks` command runs in, with its settings, database and commands
    but no pages, API or their extensions, so a command does not import the web package."""
    from flask import Flask  # here, so `perks --help` never loads Flask

    instance_path = Path((config or {}).get("INSTANCE_PATH") or default_instance_path())
    app = Flask(__name__, instance_path=str(instance_path), template_folder=str(TEMPLATES_DIR))
    app.config.update(load_config(instance_path, config))
    model_store.configure(instance_path)  # trained and adapted models live in the instance folder
    if not web:
        from perks import db

        db.init_app(app)
        register_commands(app)
        return app
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: "Flask") -> None:
    from perks import db
    from perks.web import presentation, security
    from perks.web.extensions import csrf, login_manager

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    presentation.init_app(app)


def register_blueprints(app: "Flask") -> None:
    from perks.web import api, auth, campaigns, pages, privacy, review, settings, uploads
    from perks.web.extensions import csrf

    for module in (auth, pages, campaigns, review, privacy, settings, uploads, api):
        app.register_blueprint(module.blueprint)
    # Bearer tokens only under /api/v1 (perks.web.access): no cookie, so no forgery to stop.
    csrf.exempt(api.blueprint)


def register_errorhandlers(app: "Flask") -> None:
    from perks.web import errors

    errors.init_app(app)


def register_commands(app: "Flask") -> None:
    from perks.cli import register

    register(app)
