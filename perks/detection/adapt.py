"""Adaptation: a brand's review decisions correct the model that scores its campaigns.

Stacking on the base model. With the base model's logit z and the profile features x of the
accounts the brand decided ("automated" = 1, "genuine" = 0; "unsure" says nothing):

1. a logistic regression on [z, standardised x] (L2, C = STACK_C), fitted on the decisions;
2. from MIN_FOR_TREES decisions on, a small gradient-boosted model on [z, x], monotone in z
   (a higher base score never lowers the adapted one), averaged with (1) in logit space;
3. anchored to the base model by a prior: a sample of the pool itself joins the fit as
   pseudo-decisions whose labels are the base model's probabilities (soft labels), PRIOR_N
   decisions' worth in total. With a handful of decisions the stack reproduces the base model
   on the pool except near the decided accounts; with hundreds, the decisions dominate;
4. and the move from the base logit is scaled by n / (n + PRIOR_N), so six decisions move
   scores by a sixth of what the stack says and the pool does not swing on a few labels
   (six decisions on the demo pool: docs/detection.md).

Measured against the alternatives (kNN look-alike correction, reweighted retraining of the full
model, stacking without trees) with `perks evaluate --adapt` on each held-out research
collection: docs/detection.md has the table. Fitting takes well under a second; rescoring the
pool is the only part that grows with its size. Brand A's decisions only ever touch brand A's
adapter and its rows of brand_bot_score, so brand B's flags cannot change.

Versioned and reversible: each adaptation is a new version folder in the instance's model
store (perks.detection.store); `revert` switches the brand back to the base model (or to an
earlier version) and rewrites its brand_bot_score rows.
"""

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from perks.detection import store
from perks.detection.detector import Detector
from perks.detection.features import FEATURE_NAMES, compute_features

STACK_C = 0.3
MIN_FOR_TREES = 50
Z_SCALE = 10.0
PRIOR_N = 30.0  # the base model's weight, in decisions
PRIOR_SAMPLE = 2000  # pool accounts that carry it
MIN_PER_CLASS = 2  # below this the brand's decisions cannot tell the classes apart: no stack
LABELS = {"automated": 1, "genuine": 0}
_EPS = 1e-4
TREE_FILE = "stack_trees.skops"
TREE_TYPES = [
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.preprocessing._label.LabelEncoder",
    "numpy.random._generator.Generator",
]


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Stack:
    """The fitted correction: plain numbers (and optionally a tree model), no account data."""

    n: int
    positives: int
    centre: np.ndarray
    scale: np.ndarray
    coef: np.ndarray | None = None  # [z, features...]; None: too few of one class to fit
    intercept: float = 0.0
    trees: Any = None

    @property
    def weight(self) -> float:
        """How far the decisions outweigh the base model's prior (0: not at all, 1: fully)."""
        return self.n / (self.n + PRIOR_N)

    def _design(self, z: np.ndarray, features: np.ndarray) -> np.ndarray:
        x = (np.where(np.isnan(features), self.centre, features) - self.centre) / self.scale
        # z scaled up so that its coefficient is tiny and the L2 penalty leaves it alone: the
        # stack can keep the base score as is and only the features' corrections are shrunk.
        return np.column_stack([Z_SCALE * z, x])

    def _tree_design(self, z: np.ndarray, features: np.ndarray) -> np.ndarray:
        # Unknown values take the centre: a column the pool never carries would be all NaN,
        # which the trees' binning cannot take.
        return np.column_stack([z, np.where(np.isnan(features), self.centre, features)])

    def adjust(self, z: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Adapted logits for base logits `z` of accounts with `features`."""
        if self.coef is None or not len(z):
            return z
        design = self._design(z, features)
        stacked = design @ self.coef + self.intercept
        if self.trees is not None:
            tree_p = self.trees.predict_proba(self._tree_design(z, features))[:, 1]
            stacked = 0.5 * stacked + 0.5 * logit(tree_p)
        # Evidence-weighted: a handful of decisions moves scores a little, hundreds fully.
        return z + self.weight * (stacked - z)

    def payload(self) -> dict[str, Any]:
        return {"n": self.n, "positives": self.positives, "centre": self.centre.tolist(),
                "scale": self.scale.tolist(),
                "coef": None if self.coef is None else self.coef.tolist(),
                "intercept": self.intercept, "trees": self.trees is not None}


def fit_stack(z: np.ndarray, features: np.ndarray, labels: np.ndarray, *,
              pool_z: np.ndarray | None = None, pool_features: np.ndarray | None = None,
              seed: int = 0) -> Stack:
    """Fit the correction on decided accounts (base logits, features, 0/1 labels), anchored
    by pool accounts (`pool_z`, `pool_features`) soft-labelled with the base probability."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels, dtype=int)
    n, positives = len(labels), int(labels.sum())
    with warnings.catch_warnings():  # an all-NaN column (never observed) centres on 0
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmedian(features, axis=0) if n else np.zeros(features.shape[1])
        spread = np.nanstd(features, axis=0) if n else np.ones(features.shape[1])
    centre = np.where(np.isnan(centre), 0.0, centre)
    scale = np.where(np.isnan(spread) | (spread < 1e-6), 1.0, spread)
    stack = Stack(n, positives, centre, scale)
    if min(positives, n - positives) < MIN_PER_CLASS:
        return stack
    from threadpoolctl import threadpool_limits

    all_z, all_x, all_y, weights = z, features, labels, np.ones(n)
    if pool_z is not None and len(pool_z):
        soft = _sigmoid(pool_z)
        each = PRIOR_N / len(pool_z)
        all_z = np.concatenate([z, pool_z, pool_z])
        all_x = np.vstack([features, pool_features, pool_features])
        all_y = np.concatenate([labels, np.ones(len(pool_z), int), np.zeros(len(pool_z), int)])
        weights = np.concatenate([weights, each * soft, each * (1 - soft)])
    # A few thousand rows: one thread is fastest, and spares a shared machine's other cores.
    with threadpool_limits(1):
        model = LogisticRegression(C=STACK_C, max_iter=5000)
        model.fit(stack._design(all_z, all_x), all_y, sample_weight=weights)
        stack.coef, stack.intercept = model.coef_[0].astype(float), float(model.intercept_[0])
        if n >= MIN_FOR_TREES:
            stack.trees = HistGradientBoostingClassifier(
                max_iter=60, learning_rate=0.1, max_leaf_nodes=4, min_samples_leaf=5,
                monotonic_cst=[1] + [0] * features.shape[1], random_state=seed,
            ).fit(stack._tree_design(all_z, all_x), all_y, sample_weight=weights)
    return stack


class AdaptedDetector(Detector):
    """The base detector with a brand's stack on top; same interface, same thresholds."""

    def __init__(self, base: Detector, stack: Stack, version: str, brand_id: int | None):
        super().__init__(base.estimator, base.card)
        self.base = base
        self.stack = stack
        self.version = version
        self.brand_id = brand_id

    def _predict(self, features: np.ndarray) -> np.ndarray:
        z = logit(self.base._predict(features))
        return _sigmoid(self.stack.adjust(z, features))

    @classmethod
    def from_payload(cls, base: Detector, payload: Mapping[str, Any]) -> "AdaptedDetector":
        stack = Stack(int(payload["n"]), int(payload["positives"]),
                      np.asarray(payload["centre"], float), np.asarray(payload["scale"], float),
                      None if payload["coef"] is None else np.asarray(payload["coef"], float),
                      float(payload["intercept"]))
        if payload.get("trees"):
            stack.trees = _load_trees(store.brand_folder(payload["brand_id"])
                                      / payload["version"] / TREE_FILE)
        return cls(base, stack, payload.get("detector_version") or payload["version"],
                   payload.get("brand_id"))


def _load_trees(path: Path) -> Any:
    import skops.io as sio

    from perks.detection.model import _BASIC_TYPES, stored_types

    untrusted = (set(sio.get_untrusted_types(file=path)) | stored_types(path)) - set(
        TREE_TYPES) - _BASIC_TYPES
    if untrusted:
        raise ValueError(f"{path}: refusing to load untrusted types {sorted(untrusted)}")
    return sio.load(path, trusted=TREE_TYPES)


def adapt_detector(base: Detector, accounts: Sequence[Mapping[str, Any]],
                   labels: Sequence[int], *, pool: Sequence[Mapping[str, Any]] = (),
                   version: str = "simulated", brand_id: int | None = None) -> AdaptedDetector:
    """A detector adapted to labelled accounts, anchored by a sample of the pool they came
    from (what the product and `evaluate --adapt` both do)."""
    def inputs(rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        if not len(rows):
            return np.zeros(0), np.zeros((0, len(FEATURE_NAMES)))
        features = compute_features(rows)
        return logit(base._predict(features)), features

    z, features = inputs(accounts)
    pool_z, pool_features = inputs(pool)
    stack = fit_stack(z, features, np.asarray(labels, int), pool_z=pool_z,
                      pool_features=pool_features)
    return AdaptedDetector(base, stack, version, brand_id)


def pool_sample(accounts: Sequence[Any], seed: int = 0) -> list[Any]:
    """Up to PRIOR_SAMPLE accounts of a pool, uniformly (the prior's anchor)."""
    if len(accounts) <= PRIOR_SAMPLE:
        return list(accounts)
    picked = np.random.default_rng(seed).choice(len(accounts), PRIOR_SAMPLE, replace=False)
    return [accounts[i] for i in sorted(picked.tolist())]


# --- the product: decisions in, adapter and brand_bot_score out ----------------------------

_NOT_PROFILE = {"bot_probability", "bot_reasons", "bot_model_version", "bot_flags"}


@dataclass
class AdaptResult:
    brand_id: int
    version: str | None
    base_version: str
    decisions: dict[str, int]
    rescored: int = 0
    rows_written: int = 0
    flagged_before: int = 0
    flagged_after: int = 0
    threshold: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def brand_decisions(session: Any, brand_id: int) -> tuple[list[dict[str, Any]], np.ndarray,
                                                          dict[str, int]]:
    """Profiles and 0/1 labels of the accounts this brand decided, with counts per decision."""
    from sqlalchemy import func, select

    from perks.models import Account, ReviewDecision

    decisions, table = ReviewDecision.__table__, Account.__table__
    counts = dict(session.execute(
        select(decisions.c.decision, func.count()).where(decisions.c.brand_id == brand_id)
        .group_by(decisions.c.decision)).all())
    columns = [c for c in table.c if c.name not in _NOT_PROFILE]
    rows = session.execute(
        select(decisions.c.decision, *columns)
        .join(table, table.c.id == decisions.c.account_id)
        .where(decisions.c.brand_id == brand_id, decisions.c.decision.in_(tuple(LABELS)))
        .order_by(table.c.id)).mappings().all()
    profiles = [{k: v for k, v in r.items() if k != "decision"} for r in rows]
    labels = np.array([LABELS[r["decision"]] for r in rows], dtype=int)
    return profiles, labels, {k: int(v) for k, v in counts.items()}


def _pool_profiles(session: Any) -> list[dict[str, Any]]:
    """A uniform sample of the scored pool's profiles (SQL random order, so any pool size)."""
    from sqlalchemy import func, select

    from perks.models import Account

    table = Account.__table__
    columns = [c for c in table.c if c.name not in _NOT_PROFILE]
    return [dict(r) for r in session.execute(
        select(*columns).where(table.c.bot_probability.is_not(None))
        .order_by(func.random()).limit(PRIOR_SAMPLE)).mappings()]


def _brand_threshold(session: Any, brand_id: int) -> float:
    """The lowest threshold among the brand's campaigns: reasons are stored down to it."""
    from sqlalchemy import select

    from perks.detection import policy
    from perks.models import Campaign

    campaigns = session.execute(select(Campaign).where(Campaign.brand_id == brand_id)).scalars()
    thresholds = [policy.campaign_threshold(c) for c in campaigns]
    return min(thresholds) if thresholds else policy.threshold_for("balanced")


def rescore_brand(session: Any, brand_id: int, detector: Detector | None, *,
                  chunk_size: int = 20_000,
                  progress: Callable[[int], None] | None = None) -> tuple[int, int, int, int]:
    """Rewrite the brand's brand_bot_score rows: one per scored account whose adapted
    probability differs from its own; none when `detector` is None (back to the base model).
    Returns (accounts scored, rows written, flagged before, flagged after) at the brand's
    lowest threshold. The caller commits."""
    from sqlalchemy import delete, insert, select

    from perks.models import Account, BrandBotScore

    scores, table = BrandBotScore.__table__, Account.__table__
    session.execute(delete(scores).where(scores.c.brand_id == brand_id))
    if detector is None:
        return 0, 0, 0, 0
    threshold = _brand_threshold(session, brand_id)
    columns = [c for c in table.c if c.name not in _NOT_PROFILE or c.name == "bot_probability"]
    scored = written = before = after = 0
    last_id = None
    while True:
        query = (select(*columns).where(table.c.bot_probability.is_not(None))
                 .order_by(table.c.id).limit(chunk_size))
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        rows = [dict(r) for r in session.execute(query).mappings()]
        if not rows:
            break
        last_id = rows[-1]["id"]
        results = detector.assess(rows, threshold=threshold)
        batch = []
        for row, result in zip(rows, results, strict=True):
            before += row["bot_probability"] >= threshold
            after += result.probability >= threshold
            if abs(result.probability - row["bot_probability"]) >= 0.0005:
                batch.append({"brand_id": brand_id, "account_id": row["id"],
                              "probability": result.probability,
                              "model_version": detector.version,
                              "reasons": list(result.reasons) or None})
        if batch:
            session.execute(insert(scores), batch)
        scored += len(rows)
        written += len(batch)
        if progress:
            progress(len(rows))
    return scored, written, int(before), int(after)


def adapt_brand(*, session: Any, brand_id: int, base: Detector | None = None,
                progress: Callable[[int], None] | None = None) -> AdaptResult:
    """Fit the brand's adapter on its decisions, store it as a new active version and rescore
    the brand's probabilities. The caller refreshes the brand's shortlists and commits."""
    import time

    from perks.detection import policy

    clock = time.perf_counter()
    base = base or Detector.load()
    profiles, labels, counts = brand_decisions(session, brand_id)
    detector = adapt_detector(base, profiles, labels, pool=_pool_profiles(session),
                              brand_id=brand_id)
    fitted = time.perf_counter() - clock
    version = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-n{len(labels)}"
    detector.version = f"{base.version}~b{brand_id}.{version}"
    payload = {"brand_id": brand_id, "version": version, "base_version": base.version,
               "created_at": datetime.now(UTC).isoformat(), "decisions": counts,
               **detector.stack.payload()}
    folder = store.brand_folder(brand_id) / version
    if detector.stack.trees is not None:
        import skops.io as sio

        folder.mkdir(parents=True, exist_ok=True)
        sio.dump(detector.stack.trees, folder / TREE_FILE)
    payload["detector_version"] = detector.version
    store.save_adapter(brand_id, version, payload)
    policy.forget_cache()
    clock2 = time.perf_counter()
    scored, written, before, after = rescore_brand(session, brand_id, detector,
                                                   progress=progress)
    return AdaptResult(brand_id, version, base.version, counts, scored, written, before, after,
                       _brand_threshold(session, brand_id),
                       {"fit": round(fitted, 3),
                        "rescore": round(time.perf_counter() - clock2, 3)})


def revert_brand(*, session: Any, brand_id: int, version: str | None = None) -> AdaptResult:
    """Back to the base model (version None) or to an earlier adaptation; rescores the brand's
    probabilities. The caller refreshes the brand's shortlists and commits."""
    from perks.detection import policy

    store.activate_adapter(brand_id, version)
    policy.forget_cache()
    detector = policy.current_detector(brand_id) if version else None
    base = policy.current_detector(None)
    scored, written, before, after = rescore_brand(session, brand_id, detector)
    return AdaptResult(brand_id, version, base.version, {}, scored, written, before, after,
                       _brand_threshold(session, brand_id))


def adapter_history(brand_id: int) -> list[dict[str, Any]]:
    """The brand's adaptations, newest first, with which one is active."""
    active = store.active_adapter_version(brand_id)
    out = []
    for version in reversed(store.adapter_versions(brand_id)):
        path = store.brand_folder(brand_id) / version / store.ADAPTER_FILE
        payload = json.loads(path.read_text(encoding="utf-8"))
        out.append({"version": version, "active": version == active,
                    "created_at": payload.get("created_at"),
                    "decisions": payload.get("decisions"), "n": payload.get("n")})
    return out
