"""Profile features for the bot model, computed column-wise for a batch of accounts.

The Botometer-lite set (Yang et al., AAAI 2020) without two features: `verified` (it separates
the classes in some collections and means nothing in others) and `default_profile` (nearly
every bought follower and pronbot keeps it, so the model leaned on it; dropping it raised the
mean leave-one-group-out AUC from 0.749 to 0.769 and helped 6 of the 7 held-out sets). What
remains: log-scaled counts, growth rates per hour of account age measured at `observed_at`
(never today), the followers/friends ratio, name and screen-name lengths and digit counts, bio
length and the screen-name likelihood against character-bigram frequencies of genuine handles.
Unknown values stay NaN; the model (HistGradientBoosting) routes NaN itself, nothing is imputed.

Activity aggregates (automation share, retweet share...) are not model features: no training
collection carries them. The plain rules in `perks.detection.reasons` read them directly.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from perks.paths import DATA_DIR

BIGRAMS_PATH = DATA_DIR / "screen_name_bigrams.json"
COUNTS = ("statuses_count", "followers_count", "friends_count", "favourites_count",
          "listed_count")
FEATURE_NAMES = (
    "log_statuses", "log_followers", "log_friends", "log_favourites", "log_listed",
    "default_profile_image", "profile_use_background_image",
    "statuses_per_hour", "followers_per_hour", "friends_per_hour", "favourites_per_hour",
    "listed_per_hour", "followers_friends_ratio",
    "screen_name_length", "screen_name_digits", "name_length", "name_digits",
    "description_length", "screen_name_likelihood",
)
# Screen-name alphabet: 0 = start/end, 1-26 letters, 27-36 digits, 37 '_', 38 anything else.
ALPHABET_SIZE = 39
_HANDLE_WIDTH, _NAME_WIDTH = 32, 50


def _char_classes() -> np.ndarray:
    table = np.full(128, 38, dtype=np.int32)  # ASCII only; other code points map to 38
    table[0] = 0
    for offset in range(26):
        table[ord("a") + offset] = table[ord("A") + offset] = 1 + offset
    for digit in range(10):
        table[ord("0") + digit] = 27 + digit
    table[ord("_")] = 37
    return table


_CLASSES = _char_classes()


def _codepoints(texts: list[str], width: int) -> np.ndarray:
    """(n, w) matrix of code points, 0-padded, w <= width: numpy's fixed-width unicode as ints."""
    if not texts:
        return np.zeros((0, 1), dtype=np.uint32)
    array = np.asarray(texts, dtype=str)  # as wide as the longest text in this batch
    if array.dtype.itemsize // 4 > width:
        array = array.astype(f"U{width}")
    return array.view(np.uint32).reshape(len(texts), -1)


def _bigram_ids(points: np.ndarray) -> np.ndarray:
    """Bigram ids of each row padded with start/end markers; after the end, ids are 0."""
    classes = _CLASSES[np.minimum(points, 127)]
    padded = np.zeros((len(points), points.shape[1] + 2), dtype=np.int32)
    padded[:, 1:-1] = classes
    return padded[:, :-1] * ALPHABET_SIZE + padded[:, 1:]


def bigram_log_table(handles: list[str], weights: np.ndarray | None = None) -> np.ndarray:
    """Add-one smoothed log frequencies of every bigram (with start/end markers)."""
    points = _codepoints(handles, _HANDLE_WIDTH)
    ids = _bigram_ids(points)
    mask = np.arange(ids.shape[1])[None, :] <= (points != 0).sum(axis=1)[:, None]
    row_weight = np.ones(len(handles)) if weights is None else np.asarray(weights, float)
    counts = np.bincount(ids[mask], weights=np.broadcast_to(row_weight[:, None], ids.shape)[mask],
                         minlength=ALPHABET_SIZE ** 2)
    return np.log((counts + 1.0) / (counts.sum() + ALPHABET_SIZE ** 2))


@cache
def _shipped_table(path: Path = BIGRAMS_PATH) -> np.ndarray:
    data = json.loads(path.read_text(encoding="utf-8"))
    table = np.asarray(data["log_frequency"], dtype=float)
    if table.shape != (ALPHABET_SIZE ** 2,):
        raise ValueError(f"{path}: expected {ALPHABET_SIZE ** 2} bigram log frequencies")
    return table


def screen_name_likelihood(handles: list[str], table: np.ndarray | None = None,
                           points: np.ndarray | None = None) -> np.ndarray:
    """Log of the geometric mean of the bigram frequencies of each handle (higher = name-like)."""
    table = (_shipped_table() if table is None else table).copy()
    table[0] = 0.0  # id 0 (marker, marker) only pads rows past their end: it adds nothing
    points = _codepoints(handles, _HANDLE_WIDTH) if points is None else points
    bigrams = (points != 0).sum(axis=1) + 1
    return table[_bigram_ids(points)].sum(axis=1) / bigrams


class AccountColumns(Sequence[Mapping[str, Any]]):
    """Accounts held as columns (name -> values, one per account): what a batch reader has.
    Features read whole columns as they are; an account is made into a dict only when one is
    asked for by position (the few a rule or a reason looks at)."""

    def __init__(self, columns: Mapping[str, Sequence[Any]]):
        self.columns = dict(columns)
        self.n = len(next(iter(self.columns.values()))) if self.columns else 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # an int position; slices are not needed here
        return {key: values[i] for key, values in self.columns.items()}

    def column(self, key: str) -> Sequence[Any]:
        values = self.columns.get(key)
        return values if values is not None else [None] * self.n


def column(accounts: Sequence[Mapping[str, Any]], key: str) -> Sequence[Any]:
    """Every account's `key` (None where missing), in order."""
    if isinstance(accounts, AccountColumns):
        return accounts.column(key)
    return [account.get(key) for account in accounts]


def _numbers(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype=float)  # None becomes NaN


def _timestamps(values: Sequence[datetime | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=float)


def _texts(values: Sequence[Any]) -> list[str]:
    return [v if isinstance(v, str) else "" for v in values]


def _digits(points: np.ndarray) -> np.ndarray:
    return ((points >= 48) & (points <= 57)).sum(axis=1).astype(float)


def compute_features(accounts: Sequence[Mapping[str, Any]],
                     bigram_table: np.ndarray | None = None) -> np.ndarray:
    """(len(accounts), len(FEATURE_NAMES)) float matrix; NaN where a value is unknown."""
    n = len(accounts)
    counts = {key: _numbers(column(accounts, key)) for key in COUNTS}
    age_hours = (_timestamps(column(accounts, "observed_at"))
                 - _timestamps(column(accounts, "created_at"))) / 3600.0
    # A profile read within its first hour counts as one hour old; rates stay finite.
    age_hours = np.maximum(age_hours, 1.0)
    handles = _texts(column(accounts, "screen_name"))
    handle_points = _codepoints(handles, _HANDLE_WIDTH)
    names = _texts(column(accounts, "name"))
    columns = {
        "default_profile_image": _numbers(column(accounts, "default_profile_image")),
        "profile_use_background_image": _numbers(
            column(accounts, "profile_use_background_image")),
        "followers_friends_ratio": (np.log1p(counts["followers_count"])
                                    - np.log1p(counts["friends_count"])),
        "screen_name_length": np.fromiter(map(len, handles), dtype=float, count=n),
        "screen_name_digits": _digits(handle_points),
        "name_length": np.fromiter(map(len, names), dtype=float, count=n),
        "name_digits": _digits(_codepoints(names, _NAME_WIDTH)),
        "description_length": np.fromiter(
            map(len, _texts(column(accounts, "description"))), dtype=float, count=n),
        "screen_name_likelihood": screen_name_likelihood(handles, bigram_table, handle_points),
    }
    for key, values in counts.items():
        stem = key.removesuffix("_count")
        columns[f"log_{stem}"] = np.log1p(values)
        columns[f"{stem}_per_hour"] = np.log1p(values / age_hours)
    return np.column_stack([columns[name] for name in FEATURE_NAMES]) if n else np.zeros(
        (0, len(FEATURE_NAMES)))
