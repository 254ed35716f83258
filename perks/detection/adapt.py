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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from perks.detection import store
from perks.detection.detector import Detector
from perks.detection.stacking import (  # noqa: F401  (re-exported)
    LABELS,
    PRIOR_N,
    PRIOR_SAMPLE,
    TREE_FILE,
    AdaptedDetector,
    adapt_detector,
    pool_sample,
)

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
