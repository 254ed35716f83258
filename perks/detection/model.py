"""The bot model: build, train, evaluate across groups, save and load with skops.

One estimator: HistGradientBoostingClassifier (handles NaN, no scaling needed) inside
CalibratedClassifierCV (sigmoid, so probabilities stay continuous and thresholds can move
smoothly). Training weights give humans and bots equal total weight and every source group
equal weight within its class, so no collection dominates. Files are loaded with skops and an
explicit list of trusted types; anything else in a model file is refused.
"""

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from perks.detection.features import FEATURE_NAMES
from perks.detection.training import GROUP_LABELS, TrainingTable
from perks.paths import MODEL_PATH

SEED = 20260
MODEL_VERSION = "1.0"
TARGET_PRECISION = 0.9
# Every type a saved model may contain; load() refuses a file naming any other type, even
# one skops would trust by default.
TRUSTED_TYPES = [
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.preprocessing._label.LabelEncoder",
    "numpy.random._generator.Generator",
]
# Plain containers and arrays, stored by value.
_BASIC_TYPES = {"builtins.dict", "builtins.list", "builtins.str", "builtins.tuple",
                "builtins.int", "builtins.float", "builtins.bool", "builtins.NoneType",
                "numpy.ndarray", "numpy.float64", "numpy.int64", "numpy.uint64", "numpy.uint8",
                "numpy.float32", "numpy.int32", "numpy.bool_", "numpy.dtype"}


def build_pipeline(seed: int = SEED) -> CalibratedClassifierCV:
    """Unfitted calibrated gradient boosting; fixed seeds make training reproducible."""
    boosting = HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=120, max_leaf_nodes=15, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=seed)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(boosting, method="sigmoid", cv=folds, ensemble=False)


def group_weights(labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each class half the total weight; each group an equal share of its class's half."""
    weights = np.zeros(len(labels), dtype=float)
    for label in (0, 1):
        in_class = labels == label
        names = np.unique(groups[in_class])
        for name in names:
            member = in_class & (groups == name)
            weights[member] = 1.0 / (2 * len(names) * member.sum())
    return weights * len(labels)


def fit(features: np.ndarray, labels: np.ndarray, groups: np.ndarray,
        seed: int = SEED) -> CalibratedClassifierCV:
    model = build_pipeline(seed)
    model.fit(features, labels, sample_weight=group_weights(labels, groups))
    return model


def save(model: CalibratedClassifierCV, path: Path = MODEL_PATH) -> None:
    # skops names array members by object id, so equal models differ in bytes, not in output.
    sio.dump(model, path)


def stored_types(path: Path) -> set[str]:
    """Every module.Class named in a skops file's schema."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a skops model file ({error})") from None
    found, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load(path: Path = MODEL_PATH) -> CalibratedClassifierCV:
    """Load with skops; refuses a file holding any type outside TRUSTED_TYPES."""
    untrusted = (set(sio.get_untrusted_types(file=path)) | stored_types(path)) - set(
        TRUSTED_TYPES) - _BASIC_TYPES
    if untrusted:
        raise ValueError(f"{path}: refusing to load untrusted types {sorted(untrusted)}")
    model = sio.load(path, trusted=TRUSTED_TYPES)
    if getattr(model, "n_features_in_", None) != len(FEATURE_NAMES):
        raise ValueError(f"{path}: model expects {getattr(model, 'n_features_in_', '?')} "
                         f"features, this version computes {len(FEATURE_NAMES)}")
    return model


# --- evaluation -------------------------------------------------------------------------

def _columns_without(drop: str | None) -> list[int]:
    return [i for i, name in enumerate(FEATURE_NAMES) if name != drop]


def cross_validated(table: TrainingTable, *, drop: str | None = None, seed: int = SEED
                    ) -> np.ndarray:
    """Out-of-fold probabilities from stratified 5-fold CV (folds stratified by group)."""
    columns = _columns_without(drop)
    out = np.zeros(len(table))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    # Stratify on the group, which fixes the label too: every fold sees every collection.
    for train, test in folds.split(table.features, table.groups):
        model = fit(table.features[train][:, columns], table.labels[train], table.groups[train],
                    seed)
        out[test] = model.predict_proba(table.features[test][:, columns])[:, 1]
    return out


def partner_groups(group: str, present: set[str]) -> list[str]:
    """Opposite-class groups tested with a held-out group, so an AUC can be computed.

    Same collection when it has any (same crawl era: the pair differs by label, not by year);
    pronbots-2019 has no humans, so it is paired with cresci-stock-2018's humans (nearest era).
    """
    collection, label = group.split("/")[0], GROUP_LABELS[group]
    same = sorted(g for g in present
                  if g.split("/")[0] == collection and GROUP_LABELS[g] != label)
    if same:
        return same
    fallback = {"pronbots-2019/bot": ["cresci-stock-2018/human"]}
    return [g for g in fallback.get(group, []) if g in present]


def leave_group_out(table: TrainingTable, threshold: float, *, drop: str | None = None,
                    seed: int = SEED) -> dict[str, dict[str, Any]]:
    """Per group: train without it and its partners, test on them; AUC plus the group's own
    recall (bots) or false-positive rate (humans) at the threshold."""
    columns = _columns_without(drop)
    present = set(np.unique(table.groups).tolist())
    results = {}
    for group in sorted(present):
        partners = partner_groups(group, present)
        held = np.isin(table.groups, [group, *partners])
        model = fit(table.features[~held][:, columns], table.labels[~held], table.groups[~held],
                    seed)
        scores = model.predict_proba(table.features[held][:, columns])[:, 1]
        labels, own = table.labels[held], table.groups[held] == group
        flagged = float(np.mean(scores[own] >= threshold))
        results[group] = {
            "tested_with": partners, "n": int(held.sum()),
            "auc": round(float(roc_auc_score(labels, scores)), 4) if partners else None,
            ("recall" if GROUP_LABELS[group] else "false_positive_rate"): round(flagged, 4),
        }
    return results


def weighted_pr_curve(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray,
                      thresholds: np.ndarray) -> list[dict[str, float]]:
    curve = []
    positive = labels == 1
    for t in thresholds:
        hit = scores >= t
        tp, fp = weights[hit & positive].sum(), weights[hit & ~positive].sum()
        precision = tp / (tp + fp) if tp + fp else 1.0
        curve.append({"threshold": round(float(t), 4), "precision": round(float(precision), 4),
                      "recall": round(float(tp / weights[positive].sum()), 4)})
    return curve


def operating_threshold(curve: list[dict[str, float]], target: float = TARGET_PRECISION
                        ) -> dict[str, float]:
    """Lowest threshold whose precision reaches the target (most recall at that precision)."""
    meeting = [point for point in curve if point["precision"] >= target]
    return min(meeting, key=lambda p: p["threshold"]) if meeting else curve[-1]


def permutation_importance(table: TrainingTable, oof_models: int = 5, seed: int = SEED,
                           repeats: int = 3) -> dict[str, float]:
    """Mean drop in held-out ROC AUC when one feature's column is shuffled (5-fold)."""
    rng = np.random.default_rng(seed)
    drops = np.zeros(len(FEATURE_NAMES))
    folds = StratifiedKFold(n_splits=oof_models, shuffle=True, random_state=seed)
    for train, test in folds.split(table.features, table.groups):
        model = fit(table.features[train], table.labels[train], table.groups[train], seed)
        x, y = table.features[test], table.labels[test]
        base = roc_auc_score(y, model.predict_proba(x)[:, 1])
        for j in range(len(FEATURE_NAMES)):
            for _ in range(repeats):
                shuffled = x.copy()
                shuffled[:, j] = rng.permutation(shuffled[:, j])
                drops[j] += base - roc_auc_score(y, model.predict_proba(shuffled)[:, 1])
    drops /= oof_models * repeats
    return {name: round(float(d), 5) for name, d in zip(FEATURE_NAMES, drops, strict=True)}


def collection_of(group: str) -> str:
    return group.split("/")[0]


def held_out_collection(table: TrainingTable, collection: str) -> np.ndarray:
    """Rows tested when `collection` is held out: its own, plus partner humans for a
    collection without any (pronbots-2019: cresci-stock-2018's, as in partner_groups)."""
    collections = np.array([collection_of(g) for g in table.groups])
    held = collections == collection
    present = set(np.unique(table.groups[held]).tolist())
    if not any(GROUP_LABELS.get(g) == 0 for g in present):
        for group in present:
            held |= np.isin(table.groups, partner_groups(group, set(np.unique(table.groups))))
    return held


def leave_collection_out(table: TrainingTable, seed: int = SEED,
                         progress: Any = None) -> dict[str, Any]:
    """Per collection: a model trained without it, scored on it. Gives each collection's AUC
    and one precision/recall curve over all held-out sets (each set's classes weighted
    equally, each set equally): what the product shows as "estimates from other data"."""
    say = progress or (lambda _m: None)
    scores, labels, sets, per = [], [], [], {}
    for collection in sorted({collection_of(g) for g in table.groups}):
        say(f"leave-one-collection-out: {collection}")
        held = held_out_collection(table, collection)
        model = fit(table.features[~held], table.labels[~held], table.groups[~held], seed)
        p = model.predict_proba(table.features[held])[:, 1]
        y = table.labels[held]
        per[collection] = {"n": int(held.sum()), "auc": round(float(roc_auc_score(y, p)), 4)}
        scores.append(p)
        labels.append(y)
        sets.append(np.full(len(y), collection))
    p, y, s = np.concatenate(scores), np.concatenate(labels), np.concatenate(sets)
    weights = np.zeros(len(y))
    for name in np.unique(s):
        for label in (0, 1):
            member = (s == name) & (y == label)
            if member.any():
                weights[member] = 1.0 / member.sum()
    thresholds = np.round(np.arange(0.02, 0.99, 0.01), 2)
    return {"per_collection": per,
            "mean_auc": round(float(np.mean([r["auc"] for r in per.values()])), 4),
            "curve": weighted_pr_curve(y, p, weights, thresholds)}


def evaluate(table: TrainingTable, *, full: bool = True, progress: Any = None
             ) -> dict[str, Any]:
    """All the card's figures. `full=False` skips importance and the feature-removal runs."""
    say = progress or (lambda _m: None)
    say("5-fold cross-validation")
    oof = cross_validated(table)
    weights = group_weights(table.labels, table.groups)
    thresholds = np.round(np.arange(0.02, 0.99, 0.01), 2)
    curve = weighted_pr_curve(table.labels, oof, weights, thresholds)
    point = operating_threshold(curve)
    metrics: dict[str, Any] = {
        "cv5_roc_auc": round(float(roc_auc_score(table.labels, oof)), 4),
        "cv5_roc_auc_group_weighted": round(float(
            roc_auc_score(table.labels, oof, sample_weight=weights)), 4),
        "brier": round(float(brier_score_loss(table.labels, oof)), 4),
        "brier_group_weighted": round(float(
            brier_score_loss(table.labels, oof, sample_weight=weights)), 4),
        "threshold": point,
    }
    say("leave-one-group-out")
    metrics["leave_group_out"] = leave_group_out(table, point["threshold"])
    cross = leave_collection_out(table, progress=say)
    metrics["leave_collection_out"] = {"per_collection": cross["per_collection"],
                                       "mean_auc": cross["mean_auc"]}
    metrics["cross_collection_curve"] = cross["curve"]
    logo = [g["auc"] for g in metrics["leave_group_out"].values() if g["auc"] is not None]
    metrics["leave_group_out_mean_auc"] = round(float(np.mean(logo)), 4)
    if full:
        say("permutation importance")
        importance = permutation_importance(table)
        metrics["permutation_importance"] = importance
        top = sorted(importance, key=importance.get, reverse=True)[:3]
        removed = {}
        for name in top:
            say(f"without {name}")
            drop_oof = cross_validated(table, drop=name)
            drop_logo = leave_group_out(table, point["threshold"], drop=name)
            aucs = [g["auc"] for g in drop_logo.values() if g["auc"] is not None]
            removed[name] = {
                "cv5_roc_auc": round(float(roc_auc_score(table.labels, drop_oof)), 4),
                "leave_group_out_mean_auc": round(float(np.mean(aucs)), 4),
                "leave_group_out_auc": {g: r["auc"] for g, r in drop_logo.items()},
            }
        metrics["top3_removed"] = removed
    return metrics, curve


def model_card(*, version: str, data_sha256: str, metrics: dict[str, Any],
               curve: list[dict[str, float]], n: int, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "name": "perks bot detector",
        "version": version,
        "training_data": {"path": "data/bot_training.csv", "sha256": data_sha256, "rows": n,
                          "rows_per_group": counts},
        "features": list(FEATURE_NAMES),
        "estimator": "CalibratedClassifierCV(HistGradientBoostingClassifier, sigmoid, "
                     "ensemble=False), class- and group-balanced sample weights",
        "seed": SEED,
        "target_precision": TARGET_PRECISION,
        "threshold": metrics["threshold"]["threshold"],
        "precision_recall_note": "Precision and recall on out-of-fold predictions with humans "
                                 "and bots given equal total weight (each group equal within "
                                 "its class): a 50% bot prevalence. A pool with fewer bots "
                                 "sees lower precision at the same threshold.",
        "metrics": {k: v for k, v in metrics.items() if k != "cross_collection_curve"},
        "precision_recall_curve": curve,
        # What the product shows before a pool audit (perks.detection.policy).
        "cross_collection_curve": metrics.get("cross_collection_curve", []),
    }


def genuine_quantiles(table: TrainingTable) -> list[list[float]]:
    """10th, 50th and 90th percentiles of each feature over the genuine accounts, each human
    group weighted equally (the reference for model reasons)."""
    humans = table.labels == 0
    parts = [table.features[humans & (table.groups == g)] for g in np.unique(table.groups[humans])]
    values = np.stack([np.nanquantile(p, [0.1, 0.5, 0.9], axis=0) for p in parts]).mean(axis=0)
    return [[round(float(v), 6) for v in row] for row in values]


def train(table: TrainingTable, data_sha256: str, *, model_path: Path, card_path: Path,
          full: bool = True, progress: Any = None) -> dict[str, Any]:
    """Evaluate, fit on the whole table, write the model and its card; returns the card.

    Deterministic: the same table gives the same model and the same figures. `progress`
    gets a short label before each step (perks train shows them on a terminal).
    """
    say = progress or (lambda _m: None)
    metrics, curve = evaluate(table, full=full, progress=say)
    say("fitting the model")
    model = fit(table.features, table.labels, table.groups)
    groups, counts = np.unique(table.groups, return_counts=True)
    card = model_card(version=f"{MODEL_VERSION}+{data_sha256[:8]}", data_sha256=data_sha256,
                      metrics=metrics, curve=curve, n=len(table),
                      counts={str(g): int(c) for g, c in zip(groups, counts, strict=True)})
    card["genuine_quantiles"] = {"quantiles": [0.1, 0.5, 0.9], "values": genuine_quantiles(table)}
    save(model, model_path)
    card_path.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return card
