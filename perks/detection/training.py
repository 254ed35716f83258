"""The training table: numeric features, label and source group from the shared research data.

Every file under the bots folder is read with the importer's own readers and normaliser; the
label comes from the folder (see GROUP_LABELS, taken from the data manifest). Only numbers
reach the table: no names, bios or ids. The screen-name bigram table is built here too, from
the genuine groups' handles, and stored as numbers only.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from perks.detection.features import (
    BIGRAMS_PATH,
    FEATURE_NAMES,
    bigram_log_table,
    compute_features,
)
from perks.importing.readers import BadLine, open_source, read_records
from perks.importing.records import RowError, normalize_record
from perks.paths import SHARED_BOTS_DIR, TABLE_PATH

# Group (path under the bots folder, without the file name for CSV groups) -> 1 bot, 0 human.
GROUP_LABELS = {
    "cresci-2015/E13": 0,
    "cresci-2015/INT": 1,
    "cresci-2017/genuine_accounts": 0,
    "cresci-2017/social_spambots_1": 1,
    "cresci-2017/social_spambots_2": 1,
    "cresci-2017/social_spambots_3": 1,
    "cresci-stock-2018/bot": 1,
    "cresci-stock-2018/human": 0,
    "pronbots-2019/bot": 1,
}
# Only used when a record carries no observation time at all (none in the shared data).
_FALLBACK_OBSERVED = datetime(2015, 1, 1, tzinfo=UTC)


@dataclass
class TrainingTable:
    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def group_of(path: Path, root: Path) -> str:
    relative = path.relative_to(root)
    # CSV groups are folders holding users.csv; JSON groups are files named by label.
    return str(relative.parent if relative.stem == "users" else relative.with_suffix(""))


def data_files(root: Path = SHARED_BOTS_DIR) -> list[tuple[str, Path]]:
    """(group, path) for every data file, sorted; an unknown group is an error, not a guess."""
    found = sorted(p for p in root.rglob("*") if p.suffix in (".csv", ".json", ".jsonl"))
    files = []
    for path in found:
        group = group_of(path, root)
        if group not in GROUP_LABELS:
            raise ValueError(f"{path}: no label known for group {group!r}; add it to GROUP_LABELS")
        files.append((group, path))
    return files


def read_accounts(path: Path, *, limit: int | None = None) -> list[dict]:
    """Normalised account records of one file; records the importer would reject are skipped."""
    accounts = []
    for _, raw in read_records(open_source(path)):
        if isinstance(raw, BadLine):
            continue
        try:
            accounts.append(normalize_record(raw, default_observed_at=_FALLBACK_OBSERVED))
        except RowError:
            continue
        if limit is not None and len(accounts) >= limit:
            break
    return accounts


def build_table(root: Path = SHARED_BOTS_DIR, *, limit_per_group: int | None = None,
                bigram_path: Path | None = BIGRAMS_PATH,
                bundled_bigrams: bool = False) -> TrainingTable:
    """Read every file, (re)build the bigram table from genuine handles, compute features.

    With `bigram_path=None` the bigram table is built in memory and not written (tests);
    with `bundled_bigrams` the shipped table is used, the one scoring reads (perks train).
    """
    by_group = {group: read_accounts(path, limit=limit_per_group)
                for group, path in data_files(root)}
    # Genuine handles, each group weighted equally so the largest does not set the norm.
    handles, weights = [], []
    for group, accounts in by_group.items():
        if GROUP_LABELS[group] == 0 and accounts:
            handles += [a["screen_name"] for a in accounts]
            weights += [1.0 / len(accounts)] * len(accounts)
    table = bigram_log_table(handles, np.asarray(weights))
    if bigram_path is not None:
        write_bigrams(table, bigram_path, sorted(g for g in by_group if GROUP_LABELS[g] == 0))
    parts = [compute_features(accounts, None if bundled_bigrams else table)
             for accounts in by_group.values()]
    labels = np.concatenate([[GROUP_LABELS[g]] * len(a) for g, a in by_group.items()])
    groups = np.concatenate([[g] * len(a) for g, a in by_group.items()])
    return TrainingTable(np.vstack(parts), labels.astype(int), groups.astype(str))


def write_bigrams(table: np.ndarray, path: Path, sources: list[str]) -> None:
    payload = {
        "about": "Add-one smoothed log frequencies of screen-name character bigrams, indexed "
                 "first*39+second; classes 0 start/end, 1-26 a-z, 27-36 0-9, 37 _, 38 other. "
                 "Built by perks.detection.training from the genuine groups' handles, each "
                 "group weighted equally. Numbers only: no handle is stored.",
        "sources": sources,
        "log_frequency": [round(float(v), 6) for v in table],
    }
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def table_to_csv(table: TrainingTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*FEATURE_NAMES, "label", "group"])
    for row, label, group in zip(table.features, table.labels, table.groups, strict=True):
        writer.writerow([*("" if np.isnan(v) else repr(round(float(v), 6)) for v in row),
                         int(label), group])
    return buffer.getvalue()


def write_table(table: TrainingTable, path: Path = TABLE_PATH) -> str:
    """Write the CSV; returns its sha256 (same input, same bytes, same hash)."""
    text = table_to_csv(table)
    path.write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_table(path: Path = TABLE_PATH) -> tuple[TrainingTable, str]:
    """The stored table and its sha256; feature columns are checked against FEATURE_NAMES."""
    raw = path.read_bytes()
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader)
    if tuple(header[:-2]) != FEATURE_NAMES or header[-2:] != ["label", "group"]:
        raise ValueError(f"{path}: columns do not match this version's features; rebuild it")
    rows = list(reader)
    features = np.array([[float(v) if v else np.nan for v in r[:-2]] for r in rows], dtype=float)
    labels = np.array([int(r[-2]) for r in rows], dtype=int)
    groups = np.array([r[-1] for r in rows], dtype=str)
    return TrainingTable(features, labels, groups), hashlib.sha256(raw).hexdigest()
