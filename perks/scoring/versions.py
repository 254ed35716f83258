"""What a change of SCORE_VERSION did: the scores from the older version kept in
`score_snapshot` before they are overwritten, and how far the new scores moved from them."""

from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sqlalchemy import func, insert, literal, select
from sqlmodel import Session

from perks.models import Account, ScoreSnapshot

MOVED_POINTS = 10.0  # the report counts accounts whose score moved by more than this
ACCOUNT = Account.__table__


class VersionChanges:
    """Old and new scores of accounts last scored under another SCORE_VERSION."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.old: list[np.ndarray] = []
        self.new: list[np.ndarray] = []

    def add(self, old_scores: list[Any], old_versions: list[Any], new: np.ndarray,
            version: str) -> None:
        picked = [i for i, (score, old) in enumerate(zip(old_scores, old_versions, strict=True))
                  if score is not None and old != version]
        if not picked:
            return
        for i in picked:
            key = old_versions[i] or "unknown"
            self.versions[key] = self.versions.get(key, 0) + 1
        self.old.append(np.array([old_scores[i] for i in picked], dtype=np.float64))
        self.new.append(new[picked])

    def report(self, summary: Any) -> None:
        """Fill `summary` (a perks.scoring.run.ScoreSummary): versions seen, how many moved by
        more than MOVED_POINTS, the rank correlation old vs new."""
        summary.previous_versions = self.versions
        if not self.old:
            return
        old, new = np.concatenate(self.old), np.concatenate(self.new)
        summary.moved_over_10 = int(np.count_nonzero(np.abs(new - old) > MOVED_POINTS))
        if len(old) > 1 and np.ptp(old) > 0 and np.ptp(new) > 0:
            summary.rank_correlation = round(float(spearmanr(old, new).statistic), 4)


def snapshot_older_versions(session: Session, first_id: int, last_id: int, version: str,
              taken_at: datetime) -> int:
    """Copy scores computed under another version into score_snapshot before overwriting."""
    source = select(
        ACCOUNT.c.id, func.coalesce(ACCOUNT.c.score_version, "unknown"),
        ACCOUNT.c.influence_score, ACCOUNT.c.influence_percentile, ACCOUNT.c.score_components,
        ACCOUNT.c.scored_at, literal(taken_at, ScoreSnapshot.__table__.c.taken_at.type),
    ).where(ACCOUNT.c.id.between(first_id, last_id), ACCOUNT.c.influence_score.is_not(None),
            ACCOUNT.c.score_version.is_distinct_from(version))
    target = ScoreSnapshot.__table__
    kept = session.execute(insert(target).from_select(
        ["account_id", "score_version", "influence_score", "influence_percentile", "components",
         "scored_at", "taken_at"], source).returning(target.c.id))  # psycopg reports no rowcount
    return len(kept.all())
