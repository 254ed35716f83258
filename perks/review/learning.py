"""Learning from reviews: reviewed accounts become labelled rows, the model is retrained.

"automated" -> 1, "genuine" -> 0; "unsure" is skipped, and so is an account two brands judged
differently. The rows join the bundled training table as two groups, "perks-reviews/automated"
and "perks-reviews/genuine". Weights: the research rows keep the model's class- and
group-balanced weights; a reviewed row weighs REVIEW_WEIGHT times the mean research row of its
class (a person looked at it, on this pool; but a handful must not swamp 40,000 rows).

Metrics before and after, on the same 5 folds (stratified by label, seeded):

- table: out-of-fold ROC AUC and precision/recall at the operating threshold (precision 0.9
  target, weighted as above) over the training rows: before = research rows only, after =
  research rows plus reviews;
- reviewed: how the model agrees with the reviewers on the reviewed accounts at the threshold:
  before = the current model, after = out-of-fold predictions (never a row's own fit).

The new model gets version ``<MODEL_VERSION>+<sha8>.r<rows>`` (sha over the table and the
reviewed rows), is written with its card into the instance folder (perks.detection.store, never
the installed package) and made the active model, and the pool is rescored. Running servers
pick it up within seconds (perks.detection.policy). This is the slow, global route: a full
retrain on 42k rows takes minutes. `perks review adapt` (perks.detection.adapt) is the quick,
per-brand one.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sqlalchemy import func, select
from sqlmodel import Session

from perks.detection import Detector, policy, store
from perks.detection import model as detection_model
from perks.detection.features import compute_features
from perks.detection.training import TABLE_PATH, TrainingTable, load_table
from perks.models import Account, ReviewDecision

REVIEW_WEIGHT = 5.0
LABELS = {"automated": 1, "genuine": 0}
GROUPS = {1: "perks-reviews/automated", 0: "perks-reviews/genuine"}
_NOT_PROFILE = {"bot_probability", "bot_reasons", "bot_model_version", "bot_flags"}


@dataclass
class RetrainResult:
    version_before: str | None
    version_after: str
    reviewed_rows: int
    automated: int
    genuine: int
    skipped: dict[str, int]
    before: dict[str, Any]
    after: dict[str, Any]
    threshold: float
    rescored: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def reviewed_accounts(session: Session) -> tuple[list[dict[str, Any]], np.ndarray, dict]:
    """Profiles and labels of reviewed accounts (all brands), with what was skipped."""
    decisions = ReviewDecision.__table__
    rows = session.execute(
        select(decisions.c.account_id, func.min(decisions.c.decision),
               func.max(decisions.c.decision))
        .where(decisions.c.decision.in_(tuple(LABELS)))
        .group_by(decisions.c.account_id)).all()
    labels = {a: LABELS[low] for a, low, high in rows if low == high}
    skipped = {"disagreeing brands": len(rows) - len(labels),
               "unsure": int(session.execute(select(func.count()).where(
                   decisions.c.decision == "unsure")).scalar_one())}
    if not labels:
        return [], np.zeros(0, dtype=int), skipped
    table = Account.__table__
    columns = [c for c in table.c if c.name not in _NOT_PROFILE]
    profiles = [dict(r) for r in session.execute(
        select(*columns).where(table.c.id.in_(list(labels))).order_by(table.c.id)).mappings()]
    return profiles, np.array([labels[p["id"]] for p in profiles], dtype=int), skipped


def weights_for(table: TrainingTable, reviewed: np.ndarray) -> np.ndarray:
    """Model weights for research rows; REVIEW_WEIGHT x the class mean for reviewed rows."""
    research = ~reviewed
    weights = np.zeros(len(table))
    weights[research] = detection_model.group_weights(table.labels[research],
                                                      table.groups[research])
    for label in (0, 1):
        mean = weights[research & (table.labels == label)].mean()
        weights[reviewed & (table.labels == label)] = REVIEW_WEIGHT * mean
    return weights


def _fit(features, labels, weights):
    return detection_model.build_pipeline().fit(features, labels, sample_weight=weights)


def _oof(table: TrainingTable, weights: np.ndarray, seed: int) -> np.ndarray:
    out = np.zeros(len(table))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in folds.split(table.features, table.labels):
        model = _fit(table.features[train], table.labels[train], weights[train])
        out[test] = model.predict_proba(table.features[test])[:, 1]
    return out


def _table_metrics(table: TrainingTable, weights: np.ndarray, oof: np.ndarray):
    thresholds = np.round(np.arange(0.02, 0.99, 0.01), 2)
    curve = detection_model.weighted_pr_curve(table.labels, oof, weights, thresholds)
    point = detection_model.operating_threshold(curve)
    return {"cv5_roc_auc": round(float(roc_auc_score(table.labels, oof)), 4),
            "threshold": point, "precision": point["precision"],
            "recall": point["recall"]}, curve


def agreement(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict:
    """How a model agrees with reviewers at `threshold`."""
    if not len(labels):
        return {"n": 0}
    flagged = probabilities >= threshold
    return {"n": int(len(labels)), "agreement": round(float(np.mean(flagged == (labels == 1))), 4),
            "genuine_flagged": int(np.sum(flagged & (labels == 0))),
            "automated_missed": int(np.sum(~flagged & (labels == 1)))}


def retrain_with_reviews(*, session: Session, table: TrainingTable | None = None,
                         table_sha: str | None = None, model_path: Path | None = None,
                         card_path: Path | None = None, rescore: bool = True,
                         progress: Callable[[str], None] | None = None) -> RetrainResult:
    """Retrain with the reviewed accounts, write model and card, rescore; metrics before/after.

    `table` defaults to the bundled training table; without `model_path` the model goes into
    a new version folder of the instance's model store and becomes the active one.
    """
    say = progress or (lambda _m: None)
    if table is None:
        table, table_sha = load_table(TABLE_PATH)
    table_sha = table_sha or hashlib.sha256(table.features.tobytes()).hexdigest()
    try:
        current: Detector | None = Detector.load(model_path)  # None: the one in use
    except (FileNotFoundError, ValueError):
        current = None
    profiles, labels, skipped = reviewed_accounts(session)
    features = (compute_features(profiles) if profiles
                else np.zeros((0, table.features.shape[1])))
    combined = TrainingTable(
        np.vstack([table.features, features]),
        np.concatenate([table.labels, labels]).astype(int),
        np.concatenate([table.groups, [GROUPS[int(x)] for x in labels]]).astype(str))
    reviewed = np.zeros(len(combined), dtype=bool)
    reviewed[len(table):] = True
    seed = detection_model.SEED
    say("cross-validating the current training rows")
    base_weights = detection_model.group_weights(table.labels, table.groups)
    before, _ = _table_metrics(table, base_weights, _oof(table, base_weights, seed))
    before_threshold = current.threshold if current else before["threshold"]["threshold"]
    before["reviewed"] = agreement(labels, current.probabilities(profiles)
                                   if current and profiles else np.zeros(len(labels)),
                                   before_threshold)
    say("cross-validating with the reviewed rows")
    weights = weights_for(combined, reviewed)
    oof = _oof(combined, weights, seed)
    after, curve = _table_metrics(combined, weights, oof)
    threshold = after["threshold"]["threshold"]
    after["reviewed"] = agreement(labels, oof[reviewed], threshold)
    say("fitting the final model")
    model = _fit(combined.features, combined.labels, weights)
    digest = hashlib.sha256(table_sha.encode() + features.tobytes() + labels.tobytes())
    version = f"{detection_model.MODEL_VERSION}+{digest.hexdigest()[:8]}.r{len(labels)}"
    groups, counts = np.unique(combined.groups, return_counts=True)
    card = detection_model.model_card(
        version=version, data_sha256=digest.hexdigest(),
        metrics={**after, "cv5_note": "5-fold stratified by label; reviews weighted x"
                 f"{REVIEW_WEIGHT:g} a research row of their class"},
        curve=curve, n=len(combined),
        counts={str(g): int(c) for g, c in zip(groups, counts, strict=True)})
    card["genuine_quantiles"] = {"quantiles": [0.1, 0.5, 0.9],
                                 "values": detection_model.genuine_quantiles(table)}
    card["reviews"] = {"rows": int(len(labels)), "automated": int(labels.sum()),
                       "genuine": int(len(labels) - labels.sum()), "weight": REVIEW_WEIGHT,
                       "before": before, "after": after,
                       "previous_version": current.version if current else None}
    if current is not None and "cross_collection_curve" in current.card:
        # The research rows' cross-collection estimate; reviews do not change what it measured.
        card["cross_collection_curve"] = current.card["cross_collection_curve"]
    to_store = model_path is None
    if to_store:
        model_path = store.new_base_dir(version) / store.MODEL_FILE
    card_path = card_path or model_path.parent / store.CARD_FILE
    say(f"writing {model_path}")
    detection_model.save(model, model_path)
    card_path.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    if to_store:
        store.activate_base(version)
    result = RetrainResult(
        version_before=current.version if current else None, version_after=version,
        reviewed_rows=int(len(labels)), automated=int(labels.sum()),
        genuine=int(len(labels) - labels.sum()), skipped=skipped, before=before, after=after,
        threshold=threshold)
    if rescore:
        say("rescoring the pool")
        policy.forget_cache()  # this process reloads now; others within CHECK_SECONDS
        from perks.scoring import score_pool

        result.rescored = score_pool(session, detector=Detector.load(model_path)).accounts
    return result
