"""The adapted detector: a stack on the base model fitted on a brand's decisions.

The method is described in perks.detection.adapt, which runs it for a brand (fit, store,
rescore, revert); this module holds the model part the detector cache loads.
"""

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
