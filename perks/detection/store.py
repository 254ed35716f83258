"""Where models live: the instance folder holds every trained and adapted model, versioned.

    <instance>/models/base/<version>/bot_model.skops + model_card.json   (perks train)
    <instance>/models/base/active                                         (the version in use)
    <instance>/models/brand-<id>/<version>/adapter.json                   (perks review adapt)
    <instance>/models/brand-<id>/active                                   (absent: no adaptation)

The bundled model in the package's data folder is the read-only fallback: nothing here ever
writes into the installed package, so a reinstall never reverts a retrain. Switching versions
is a rewrite of one small `active` file (written to a temporary name, then renamed), so a
reader sees the old version or the new one, never half a file. No heavy imports here: the
policy's change check runs on every request.
"""

import json
import os
import re
from pathlib import Path
from typing import Any

from perks.paths import DATA_DIR

BUNDLED_MODEL = DATA_DIR / "bot_model.skops"
MODEL_FILE = "bot_model.skops"
CARD_FILE = "model_card.json"
ADAPTER_FILE = "adapter.json"
ACTIVE_FILE = "active"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,79}$")

_configured: Path | None = None


def configure(instance_path: Path | str | None) -> None:
    """Use `<instance_path>/models` (the app factory calls this); None: back to the default."""
    global _configured
    _configured = None if instance_path is None else Path(instance_path) / "models"


def models_root() -> Path:
    if _configured is not None:
        return _configured
    from perks.config import default_instance_path

    return default_instance_path() / "models"


def _check_version(version: str) -> str:
    if not _VERSION.match(version):
        raise ValueError(f"not a model version: {version!r}")
    return version


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def _read_active(folder: Path) -> str | None:
    try:
        text = (folder / ACTIVE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if text and _VERSION.match(text) else None


# --- the base model ---------------------------------------------------------------------

def base_folder() -> Path:
    return models_root() / "base"


def new_base_dir(version: str) -> Path:
    """A fresh folder for a trained model of `version` (the caller writes model and card)."""
    folder = base_folder() / _check_version(version)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def activate_base(version: str | None) -> None:
    """Make `version` the model every process uses; None: back to the bundled model."""
    active = base_folder() / ACTIVE_FILE
    if version is None:
        active.unlink(missing_ok=True)
        return
    if not (base_folder() / _check_version(version) / MODEL_FILE).is_file():
        raise FileNotFoundError(f"no trained model {version} in {base_folder()}")
    _write_atomic(active, version + "\n")


def active_model_path() -> Path:
    """The model file in use: the active trained one, else the bundled one."""
    version = _read_active(base_folder())
    if version:
        path = base_folder() / version / MODEL_FILE
        if path.is_file():
            return path
    return BUNDLED_MODEL


# --- per-brand adaptations --------------------------------------------------------------

def brand_folder(brand_id: int) -> Path:
    return models_root() / f"brand-{int(brand_id)}"


def save_adapter(brand_id: int, version: str, payload: dict[str, Any]) -> Path:
    """Write an adaptation under its version and make it the brand's active one."""
    folder = brand_folder(brand_id) / _check_version(version)
    _write_atomic(folder / ADAPTER_FILE, json.dumps(payload, separators=(",", ":")))
    _write_atomic(brand_folder(brand_id) / ACTIVE_FILE, version + "\n")
    return folder


def activate_adapter(brand_id: int, version: str | None) -> None:
    """Switch the brand to an earlier adaptation, or (None) back to the base model alone."""
    active = brand_folder(brand_id) / ACTIVE_FILE
    if version is None:
        active.unlink(missing_ok=True)
        return
    if not (brand_folder(brand_id) / _check_version(version) / ADAPTER_FILE).is_file():
        raise FileNotFoundError(f"brand {brand_id} has no adaptation {version}")
    _write_atomic(active, version + "\n")


def active_adapter(brand_id: int) -> dict[str, Any] | None:
    version = _read_active(brand_folder(brand_id))
    if not version:
        return None
    try:
        text = (brand_folder(brand_id) / version / ADAPTER_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    return json.loads(text)


def adapter_versions(brand_id: int) -> list[str]:
    """The brand's stored adaptations, oldest first (versions sort by their time stamp)."""
    folder = brand_folder(brand_id)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / ADAPTER_FILE).is_file())


def active_adapter_version(brand_id: int) -> str | None:
    return _read_active(brand_folder(brand_id))


def stamp(brand_id: int | None = None) -> tuple[Any, ...]:
    """Changes whenever the model a process should use changes: the active files' contents
    and modification times, and the model file's (a retrain in place changes its mtime)."""
    parts: list[Any] = []
    folders = [base_folder()] + ([brand_folder(brand_id)] if brand_id is not None else [])
    for folder in folders:
        active = folder / ACTIVE_FILE
        try:
            parts += [active.stat().st_mtime_ns, active.read_text(encoding="utf-8")]
        except OSError:
            parts += [None, None]
    model = active_model_path()
    card = model.parent / CARD_FILE
    for path in (model, card):
        try:
            parts.append(path.stat().st_mtime_ns)
        except OSError:
            parts.append(None)
    return tuple(parts)
