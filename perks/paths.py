"""Where perks finds its templates and data, both in a checkout and in an installed wheel."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped_or_checkout(name: str) -> Path:
    # The wheel carries the top-level folders inside the package as _<name> (pyproject.toml).
    shipped = PACKAGE_DIR / f"_{name}"
    return shipped if shipped.is_dir() else PACKAGE_DIR.parent / name


TEMPLATES_DIR = _shipped_or_checkout("templates")
DATA_DIR = _shipped_or_checkout("data")
TAXONOMY_PATH = DATA_DIR / "taxonomy.json"
# The detection stage's shipped files; here so the CLI can name them without loading the model.
MODEL_PATH = DATA_DIR / "bot_model.skops"
CARD_PATH = DATA_DIR / "model_card.json"
TABLE_PATH = DATA_DIR / "bot_training.csv"

# The research datasets sit beside a developer's checkout and CI's, never in a user's clone.
SHARED_BOTS_DIR = PACKAGE_DIR.parent.parent / "shared" / "data" / "bots"
