"""The `perks` console script: Flask's command group around create_app (== `flask --app perks`)."""

from flask.cli import FlaskGroup

from perks import create_app

# The app is fixed and configured from PERKS_* variables, so Flask's --app/--env-file/--debug
# options would only confuse `perks --help`.
_FLASK_ONLY_OPTIONS = {"app", "env_file", "debug"}


def main() -> None:
    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False,
                       load_dotenv=False, set_debug_flag=False,
                       help="perks: perks campaigns with explainable scores and a human check "
                            "on bots. Configured by PERKS_* environment variables (README).")
    group.params = [p for p in group.params if p.name not in _FLASK_ONLY_OPTIONS]
    group(prog_name="perks")
