"""An account's score history: the current score and the snapshots older versions left."""

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from perks.models import Account, ScoreSnapshot


def score_history(session: Session, account_id: int) -> list[dict[str, Any]]:
    """The account's scores, newest first: the current one, then one per older score version.

    Each entry: score_version, influence_score, influence_percentile, components, scored_at
    (when that score was computed) and superseded_at (None for the current score).
    """
    current = session.execute(
        select(Account.score_version, Account.influence_score, Account.influence_percentile,
               Account.score_components, Account.scored_at)
        .where(Account.id == account_id, Account.influence_score.is_not(None))).first()
    history = []
    if current is not None:
        history.append(_entry(*current, superseded_at=None))
    snapshots = session.execute(
        select(ScoreSnapshot.score_version, ScoreSnapshot.influence_score,
               ScoreSnapshot.influence_percentile, ScoreSnapshot.components,
               ScoreSnapshot.scored_at, ScoreSnapshot.taken_at)
        .where(ScoreSnapshot.account_id == account_id)
        .order_by(ScoreSnapshot.taken_at.desc(), ScoreSnapshot.id.desc()))
    history += [_entry(*row[:5], superseded_at=row[5]) for row in snapshots]
    return history


def _entry(version, score, percentile, components, scored_at, *, superseded_at):
    return {"score_version": version, "influence_score": score,
            "influence_percentile": percentile, "components": components,
            "scored_at": scored_at, "superseded_at": superseded_at}
