"""Percentiles that hold still: read against a reference distribution fixed per score version.

A percentile used to be a rank within the whole pool as it stood at the last `perks score`, so
importing 17,000 bots moved every real account's rank. Now the first `perks score` under a
SCORE_VERSION stores the distribution of that run's scores (all of them when there are at most
REFERENCE_POINTS, else that many evenly spaced quantiles), and later runs read every account's
percentile against it: an account's percentile moves when its own score does, not because
others arrived. `perks score --recalibrate` takes a new reference from the pool as it is now
and reports how far percentiles moved, as a score-version change reports scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from perks.models import ScoreReference, utcnow
from perks.scoring.influence import percentile_ranks
from perks.scoring.versions import MOVED_POINTS  # one threshold for both "moved" reports

REFERENCE_POINTS = 10_001  # quantiles kept: percentiles within 0.01 points of the exact rank
SMALL_REFERENCE = 1000  # below this the summary suggests recalibrating once the pool is in


@dataclass
class Reference:
    """The distribution percentiles are read against."""

    score_version: str
    accounts: int
    quantiles: np.ndarray  # sorted
    created_at: datetime

    def percentiles(self, scores: np.ndarray) -> np.ndarray:
        """0-100 per score: the share of the reference below it, plus half of that equal."""
        return percentile_ranks(scores, self.quantiles)


@dataclass
class Calibration:
    """What `perks score` did about the reference, for its summary."""

    action: str  # "kept", "set" (first run of a version) or "recalibrated"
    reference_accounts: int
    reference_created_at: datetime
    previous_accounts: int | None = None  # the replaced reference's size, on recalibration
    moved_over_10: int | None = None  # accounts whose percentile moved by more than 10 points
    largest_move: float | None = None

    @property
    def small(self) -> bool:
        return self.reference_accounts < SMALL_REFERENCE


def current_reference(session: Session, version: str) -> Reference | None:
    """The newest stored reference for `version`, or None."""
    row = session.execute(
        select(ScoreReference).where(ScoreReference.score_version == version)
        .order_by(ScoreReference.id.desc()).limit(1)).scalars().first()
    if row is None:
        return None
    return Reference(row.score_version, row.accounts,
                     np.asarray(row.quantiles, dtype=np.float64), row.created_at)


def reference_from_scores(version: str, scores_sorted: np.ndarray) -> Reference:
    """A reference from a sorted array of scores (NaN-free)."""
    if len(scores_sorted) <= REFERENCE_POINTS:
        quantiles = scores_sorted.copy()
    else:
        quantiles = np.quantile(scores_sorted, np.linspace(0.0, 1.0, REFERENCE_POINTS))
    return Reference(version, len(scores_sorted), quantiles, utcnow())


def calibrate(session: Session, version: str, scores_sorted: np.ndarray, *,
              recalibrate: bool = False) -> tuple[Reference | None, Calibration | None]:
    """The reference this run reads percentiles against, storing a new one when the version
    has none yet or `recalibrate` asks; None (no percentiles) for an empty pool."""
    stored = current_reference(session, version)
    if stored is not None and not recalibrate:
        return stored, Calibration("kept", stored.accounts, stored.created_at)
    if len(scores_sorted) == 0:
        return stored, None
    new = reference_from_scores(version, scores_sorted)
    session.add(ScoreReference(score_version=version, accounts=new.accounts,
                               quantiles=new.quantiles.tolist(), created_at=new.created_at))
    session.flush()
    if stored is None:
        return new, Calibration("set", new.accounts, new.created_at)
    moves = np.abs(new.percentiles(scores_sorted) - stored.percentiles(scores_sorted))
    return new, Calibration("recalibrated", new.accounts, new.created_at,
                            previous_accounts=stored.accounts,
                            moved_over_10=int(np.count_nonzero(moves > MOVED_POINTS)),
                            largest_move=round(float(moves.max()), 2))
