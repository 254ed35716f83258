"""Evaluate a detector on labelled files: `perks evaluate PATH[:LABEL]...`.

Files are read exactly as the importer reads them (CSV, JSON array, JSON Lines; user or tweet
objects). A label comes from the whole-file spec (`PATH:bot` / `PATH:human`) or from a label
column (`label` by default). Records the importer would reject, or without a readable label,
are counted and skipped. Nothing is written anywhere.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from perks.importing.readers import BadLine, open_source, read_records
from perks.importing.records import RowError, is_missing, normalize_record

BOT_LABELS = {"bot", "1", "true", "t", "yes", "automated", "fake", "spambot"}
HUMAN_LABELS = {"human", "0", "false", "f", "no", "genuine"}


class EvaluationError(ValueError):
    """A spec or file that cannot be evaluated; the message is for the user."""


@dataclass(frozen=True)
class FileSpec:
    path: Path
    label: int | None  # whole-file label, or None: read it from the label column


def parse_spec(spec: str) -> FileSpec:
    """"data.csv", "data.csv:bot" or "data.json:human"."""
    head, sep, tail = spec.rpartition(":")
    if sep and tail.lower() in BOT_LABELS | HUMAN_LABELS and head:
        return FileSpec(Path(head), 1 if tail.lower() in BOT_LABELS else 0)
    return FileSpec(Path(spec), None)


def parse_label(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if is_missing(value):
        return None
    text = str(value).strip().lower()
    if text in BOT_LABELS:
        return 1
    if text in HUMAN_LABELS:
        return 0
    return None


def _raw_label(raw: Mapping[str, Any], column: str) -> Any:
    if column in raw:
        return raw[column]
    user = raw.get("user")
    return user.get(column) if isinstance(user, Mapping) else None


def read_labelled(spec: FileSpec, *, label_column: str = "label",
                  ignore_fields: Iterable[str] = (),
                  observed_at: datetime | None = None) -> tuple[list[dict], list[int], dict]:
    """Accounts, labels and per-file counts (read, rejected, unlabelled)."""
    try:
        source = open_source(spec.path)
    except ValueError as error:
        raise EvaluationError(str(error)) from None
    ignored = set(ignore_fields)
    default_observed = observed_at or datetime.now(UTC)
    accounts, labels = [], []
    counts = {"file": str(spec.path), "records": 0, "rejected": 0, "unlabelled": 0}
    try:
        for _, raw in read_records(source):
            counts["records"] += 1
            if isinstance(raw, BadLine):
                counts["rejected"] += 1
                continue
            label = spec.label if spec.label is not None else parse_label(
                _raw_label(raw, label_column))
            if label is None:
                counts["unlabelled"] += 1
                continue
            if ignored:
                raw = _without(raw, ignored)
            try:
                accounts.append(normalize_record(raw, default_observed_at=default_observed))
            except RowError:
                counts["rejected"] += 1
                continue
            labels.append(label)
    except ValueError as error:  # ImportFormatError: the file as a whole is unreadable
        raise EvaluationError(str(error)) from None
    return accounts, labels, counts


def _without(raw: Mapping[str, Any], ignored: set[str]) -> dict[str, Any]:
    """The record with ignored fields removed, also inside a tweet's `user`."""
    clean = {k: v for k, v in raw.items() if k not in ignored}
    if isinstance(clean.get("user"), Mapping):
        clean["user"] = {k: v for k, v in clean["user"].items() if k not in ignored}
    return clean


def read_files(specs: Iterable[str | FileSpec], *, label_column: str = "label",
               ignore_fields: Iterable[str] = (),
               observed_at: datetime | None = None) -> tuple[list[dict], list[int], list[dict]]:
    """Accounts, labels and per-file counts of every file, in order."""
    accounts, labels, files = [], [], []
    for spec in specs:
        spec = parse_spec(spec) if isinstance(spec, str) else spec
        got, got_labels, counts = read_labelled(spec, label_column=label_column,
                                                ignore_fields=ignore_fields,
                                                observed_at=observed_at)
        accounts += got
        labels += got_labels
        files.append(counts)
    if not accounts:
        raise EvaluationError(f"no labelled accounts: give PATH:bot / PATH:human or a "
                              f"{label_column!r} column")
    return accounts, labels, files


def evaluate_files(detector: Any, specs: Iterable[str | FileSpec], *,
                   label_column: str = "label", ignore_fields: Iterable[str] = (),
                   threshold: float | None = None,
                   observed_at: datetime | None = None) -> dict[str, Any]:
    """Metrics of `detector` over all the files together, plus per-file counts."""
    accounts, labels, files = read_files(specs, label_column=label_column,
                                         ignore_fields=ignore_fields, observed_at=observed_at)
    return {**metrics(detector, accounts, labels, threshold=threshold), "files": files}


def metrics(detector: Any, accounts: list[dict], labels: list[int], *,
            threshold: float | None = None) -> dict[str, Any]:
    """ROC AUC, average precision, Brier, precision/recall/F1 and confusion at `threshold`."""
    threshold = detector.threshold if threshold is None else threshold
    results = detector.assess(accounts, threshold=threshold, explain=False)
    scores = np.array([r.probability for r in results])
    flagged = np.array([r.flagged for r in results])
    y = np.array(labels, dtype=int)
    both = 0 < y.sum() < len(y)
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    fn, tn = int((~flagged & (y == 1)).sum()), int((~flagged & (y == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision is not None and recall is not None and precision + recall else None)
    return {
        "model_version": detector.version,
        "threshold": threshold,
        "n": len(y), "positives": int(y.sum()), "negatives": int(len(y) - y.sum()),
        "roc_auc": round(float(roc_auc_score(y, scores)), 4) if both else None,
        "average_precision": round(float(average_precision_score(y, scores)), 4)
        if both else None,
        "brier": round(float(brier_score_loss(y, scores, labels=[0, 1])), 4),
        "precision": None if precision is None else round(precision, 4),
        "recall": None if recall is None else round(recall, 4),
        "f1": None if f1 is None else round(f1, 4),
        "confusion": {"true_positives": tp, "false_positives": fp, "false_negatives": fn,
                      "true_negatives": tn},
        "flagged_by_rules_only": int(sum(r.flagged and r.probability < threshold
                                         for r in results)),
    }


def reviewer_picks(probabilities: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices a reviewer would decide: half the top of the ranking (the review queue shows
    the most probable bots first) and half a uniform sample of the rest (the pool audit)."""
    n = min(n, len(probabilities))
    if n <= 0:
        return np.zeros(0, dtype=int)
    top = np.argsort(-probabilities, kind="stable")[: n // 2]
    rest = np.setdiff1d(np.arange(len(probabilities)), top)
    uniform = np.random.default_rng(seed).choice(rest, n - len(top), replace=False)
    return np.sort(np.concatenate([top, uniform]))


def evaluate_adapted(detector: Any, specs: Iterable[str | FileSpec], *, decisions: int,
                     seed: int = 0, label_column: str = "label",
                     ignore_fields: Iterable[str] = (), threshold: float | None = None,
                     observed_at: datetime | None = None) -> dict[str, Any]:
    """Simulate a reviewer: `decisions` accounts picked as the product asks (reviewer_picks)
    take their file labels as decisions, the detector is adapted exactly as for a brand
    (perks.detection.adapt), and both detectors are scored on the remaining accounts."""
    import time

    from perks.detection.adapt import adapt_detector, pool_sample

    accounts, labels, files = read_files(specs, label_column=label_column,
                                         ignore_fields=ignore_fields, observed_at=observed_at)
    if decisions >= len(accounts):
        raise EvaluationError(f"--adapt {decisions} leaves no account to evaluate on "
                              f"({len(accounts)} labelled)")
    picked = reviewer_picks(detector.probabilities(accounts), decisions, seed)
    chosen = set(picked.tolist())
    rest = [i for i in range(len(accounts)) if i not in chosen]
    clock = time.perf_counter()
    adapted = adapt_detector(detector, [accounts[i] for i in picked],
                             [labels[i] for i in picked], pool=pool_sample(accounts, seed))
    seconds = time.perf_counter() - clock
    held = [accounts[i] for i in rest]
    held_labels = [labels[i] for i in rest]
    picked_labels = [labels[i] for i in picked]
    return {"decisions": {"n": len(picked), "automated": int(sum(picked_labels)),
                          "genuine": int(len(picked_labels) - sum(picked_labels)),
                          "seed": seed, "adapt_seconds": round(seconds, 3)},
            "before": metrics(detector, held, held_labels, threshold=threshold),
            "after": metrics(adapted, held, held_labels, threshold=threshold),
            "files": files}
