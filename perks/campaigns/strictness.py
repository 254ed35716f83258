"""What each bot-strictness setting means: its threshold and the model card's precision and recall.

The form shows these next to the strictness field so a marketer sees the trade-off before
choosing. Thresholds come from `matching.bot_threshold` (the same the funnel uses); precision
and recall are read off the loaded detector's card at that threshold. No Flask here.
"""

from dataclasses import dataclass
from typing import Any

from perks.campaigns import matching
from perks.campaigns.store import STRICTNESS


@dataclass
class Setting:
    name: str
    threshold: float
    precision: float
    recall: float


@dataclass
class StrictnessTable:
    settings: list[Setting]
    model_version: str
    note: str  # the card's caveat on the prevalence its precision assumes


def strictness_table() -> StrictnessTable | None:
    """One row per named strictness, or None when the bot model cannot load."""
    try:
        # matching's cached loader: the model file is large, load it once per process
        card: dict[str, Any] = dict(matching._detector().card)
        curve = card["precision_recall_curve"]
    except Exception:  # noqa: BLE001 - missing, untrained or unreadable model: say so, not 500
        return None
    settings = []
    for name in STRICTNESS:
        threshold = matching.bot_threshold(name)
        point = min(curve, key=lambda p: abs(p["threshold"] - threshold))
        settings.append(Setting(name, threshold, float(point["precision"]),
                                float(point["recall"])))
    return StrictnessTable(settings, str(card.get("version", "")),
                           str(card.get("precision_recall_note", "")))
