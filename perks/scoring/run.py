"""`perks score`: one pass over the pool that writes influence, percentile, topics and bot scores.

Two reads, one write, in chunks of accounts ordered by id, so memory stays bounded:

1. The score inputs only, as numpy columns: every account's new score, kept as one float array
   (8 bytes an account) for the percentiles; and, for accounts last scored under another
   SCORE_VERSION, the old and new score for the "what moved" report.
2. Per chunk: the inputs again plus bio and posts; a snapshot of scores from an older version,
   then influence, components, confidence, percentile, topics and bot probability, written with
   executemany updates by primary key, committed per chunk.

Re-running with the same SCORE_VERSION just recomputes (data may have changed) and takes no
snapshot: a snapshot marks a change of formula, not of data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sqlalchemy import (
    bindparam,
    extract,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlmodel import Session

from perks.accounts import sync_topics, topic_ids_by_slug
from perks.models import Account, ScoreSnapshot, utcnow
from perks.scoring import influence
from perks.scoring.influence import CONFIDENCE_STATES, InfluenceInputs, score_influence
from perks.scoring.percentiles import Reference, calibrate
from perks.scoring.topic_rows import (
    PreserialisedJSON,
    record_taxonomy,
    topic_text,
    write_inferred_topics,
)
from perks.topics import TopicInferrer, fingerprint

MOVED_POINTS = 10.0  # the report counts accounts whose score moved by more than this
ACCOUNT = Account.__table__


@dataclass
class ScoreSummary:
    """What one `score_pool` run did; `perks score` prints it."""

    accounts: int = 0
    seconds: float = 0.0
    score_version: str = ""
    previous_versions: dict[str, int] = field(default_factory=dict)  # version -> accounts
    snapshots: int = 0
    moved_over_10: int | None = None  # None: no account had a score from another version
    rank_correlation: float | None = None  # Spearman, old version vs new, same accounts
    confidence: dict[str, int] = field(default_factory=dict)
    topics_inferred: int = 0  # inferred account-topic rows written
    accounts_with_topics: int = 0  # accounts given at least one inferred topic
    imported_topics_kept: int = 0  # inferred matches skipped because the import gave the topic
    taxonomy_fingerprint: str = ""
    taxonomy_changed: bool | None = None  # since the last run; None: no earlier run recorded
    bots: str = "not run"  # "scored", or why bot probabilities were left untouched
    bot_model_version: str | None = None
    bots_flagged: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # The percentile reference: action kept/set/recalibrated, reference_accounts,
    # reference_created_at and, on recalibration, previous_accounts, moved_over_10,
    # largest_move (perks.scoring.percentiles.Calibration as plain values).
    percentile_reference: dict[str, Any] | None = None

    @property
    def accounts_per_second(self) -> float:
        return self.accounts / self.seconds if self.seconds else 0.0


def load_detector() -> tuple[Any | None, str]:
    """The bot detector if its module and model are installed, else None and the reason."""
    try:
        from perks.detection import Detector
    except ImportError as error:
        return None, f"not run: detection module not available ({error})"
    try:
        return Detector.load(), "scored"
    except (OSError, ValueError, LookupError) as error:
        return None, f"not run: bot model could not be loaded ({error})"


def score_pool(session: Session, *, chunk_size: int = 20_000,
               progress: Callable[[int], None] | None = None,
               detector: Any | None = None, recalibrate: bool = False) -> ScoreSummary:
    """Recompute influence, percentile, confidence, inferred topics and (with a detector) bot
    probabilities for every account; commit per chunk and return a summary.

    Topics the import gave (source "imported") are kept; inferred rows are replaced, and an
    inferred topic the import already gave is skipped. Without `detector` the bot columns are
    left as they are and `summary.bots` says so. `progress(n)` is called after each written
    chunk with its number of accounts.

    Percentiles are read against the score version's stored reference distribution
    (perks.scoring.percentiles), set by the version's first run; `recalibrate` replaces it
    with this pool's distribution and the summary reports how far percentiles moved.
    """
    started = time.perf_counter()
    version = influence.SCORE_VERSION
    summary = ScoreSummary(score_version=version, timings=dict.fromkeys(
        ("read", "numeric", "topics", "bots", "write"), 0.0))
    if detector is not None:
        summary.bots, summary.bot_model_version, summary.bots_flagged = (
            "scored", detector.version, 0)
    age = _age_days(session)
    pool = _first_pass(session, age, chunk_size, summary)
    summary.accounts = len(pool)
    reference, calibration = calibrate(session, version, pool, recalibrate=recalibrate)
    if calibration is not None:
        summary.percentile_reference = {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in vars(calibration).items()}
    inferrer = TopicInferrer()
    sync_topics(session, inferrer.taxonomy)
    topic_ids = topic_ids_by_slug(session)
    summary.confidence = dict.fromkeys(CONFIDENCE_STATES, 0)
    scored_at = utcnow()
    last_id = None
    while True:
        clock = time.perf_counter()
        rows = _chunk(session, _second_pass_columns(age, detector), last_id, chunk_size)
        summary.timings["read"] += time.perf_counter() - clock
        if not rows:
            break
        first_id, last_id = rows[0].id, rows[-1].id
        summary.snapshots += _snapshot(session, first_id, last_id, version, scored_at)
        values = _score_chunk(rows, reference, version, scored_at, summary)
        if detector is not None:
            _assess_bots(detector, rows, values, summary)
        clock = time.perf_counter()
        _write_scores(session, values, detector is not None)
        summary.timings["write"] += time.perf_counter() - clock
        clock = time.perf_counter()
        counts = write_inferred_topics(
            session, inferrer=inferrer, topic_ids=topic_ids, account_ids=[r.id for r in rows],
            texts=[topic_text(r.description, r.post_text) for r in rows])
        summary.topics_inferred += counts.rows
        summary.accounts_with_topics += counts.accounts
        summary.imported_topics_kept += counts.imported_kept
        summary.timings["topics"] += time.perf_counter() - clock
        session.commit()
        if progress:
            progress(len(rows))
    # Every run re-infers every account, so after it the stored topics match this taxonomy.
    summary.taxonomy_changed = record_taxonomy(session, inferrer.taxonomy)
    summary.taxonomy_fingerprint = fingerprint(inferrer.taxonomy)
    session.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def _age_days(session: Session) -> Any:
    """SQL for the account's age in days at observation, so no datetimes reach Python."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(Account.observed_at) - func.julianday(Account.created_at)
    return extract("epoch", Account.observed_at - Account.created_at) / 86400.0


def _input_columns(age: Any) -> list[Any]:
    return [ACCOUNT.c.followers_count, ACCOUNT.c.statuses_count, ACCOUNT.c.favourites_count,
            ACCOUNT.c.listed_count, ACCOUNT.c.posts_per_day, age.label("age_days")]


def _chunk(session: Session, columns: list[Any], after_id: int | None, size: int) -> list[Any]:
    query = select(ACCOUNT.c.id, *columns).order_by(ACCOUNT.c.id).limit(size)
    if after_id is not None:
        query = query.where(ACCOUNT.c.id > after_id)
    return session.execute(query).all()


def _inputs(rows: list[Any]) -> InfluenceInputs:
    width = len(influence.INPUT_COLUMNS)
    return InfluenceInputs.from_rows([tuple(row)[1 : 1 + width] for row in rows])


def _first_pass(session: Session, age: Any, chunk_size: int, summary: ScoreSummary) -> np.ndarray:
    """Every account's new score, sorted; fills the version-change part of the summary."""
    columns = [*_input_columns(age), ACCOUNT.c.influence_score, ACCOUNT.c.score_version]
    version = summary.score_version
    scores: list[np.ndarray] = []
    old_scores: list[np.ndarray] = []
    new_scores: list[np.ndarray] = []
    last_id = None
    while True:
        clock = time.perf_counter()
        rows = _chunk(session, columns, last_id, chunk_size)
        summary.timings["read"] += time.perf_counter() - clock
        if not rows:
            break
        last_id = rows[-1].id
        clock = time.perf_counter()
        new = score_influence(_inputs(rows)).score
        summary.timings["numeric"] += time.perf_counter() - clock
        scores.append(new)
        changed = [(i, row.influence_score, row.score_version) for i, row in enumerate(rows)
                   if row.influence_score is not None and row.score_version != version]
        if changed:
            for _i, _old, old_version in changed:
                key = old_version or "unknown"
                summary.previous_versions[key] = summary.previous_versions.get(key, 0) + 1
            old_scores.append(np.array([old for _i, old, _v in changed], dtype=np.float64))
            new_scores.append(new[[i for i, _old, _v in changed]])
    if old_scores:
        old, new = np.concatenate(old_scores), np.concatenate(new_scores)
        summary.moved_over_10 = int(np.count_nonzero(np.abs(new - old) > MOVED_POINTS))
        if len(old) > 1 and np.ptp(old) > 0 and np.ptp(new) > 0:
            summary.rank_correlation = round(float(spearmanr(old, new).statistic), 4)
    pool = np.concatenate(scores) if scores else np.empty(0)
    pool.sort()
    return pool


def _second_pass_columns(age: Any, detector: Any | None) -> list[Any]:
    columns = [*_input_columns(age), ACCOUNT.c.description, ACCOUNT.c.post_text]
    if detector is not None:  # the profile and activity columns, not scores or bookkeeping
        columns += [column for column in ACCOUNT.c if column.name not in _NOT_FOR_DETECTOR]
    return columns


_NOT_FOR_DETECTOR = {
    "id", "followers_count", "statuses_count", "favourites_count", "listed_count",
    "posts_per_day", "description", "post_text",  # already selected
    "influence_score", "influence_percentile", "score_components", "score_version",
    "score_confidence", "bot_probability", "bot_reasons", "bot_model_version", "bot_flags",
    "scored_at", "unknown_counts",
    "first_imported_at", "updated_at", "source_file", "import_run_id",
}


def _snapshot(session: Session, first_id: int, last_id: int, version: str,
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


def _score_chunk(rows: list[Any], reference: Reference | None, version: str,
                 scored_at: datetime, summary: ScoreSummary) -> list[dict[str, Any]]:
    clock = time.perf_counter()
    scores = score_influence(_inputs(rows))
    percentiles = (reference.percentiles(scores.score) if reference is not None
                   else np.full(len(rows), np.nan))
    confidence = scores.confidence()
    for state in confidence:
        summary.confidence[state] += 1
    values = [
        {"b_id": row.id, "b_score": score, "b_percentile": pct, "b_components": components,
         "b_version": version, "b_confidence": state, "b_scored_at": scored_at}
        for row, score, pct, components, state in zip(
            rows, scores.score.tolist(), percentiles.tolist(), _components_json(scores),
            confidence, strict=True)]
    summary.timings["numeric"] += time.perf_counter() - clock
    return values


def _components_json(scores: influence.InfluenceScores) -> list[str]:
    """The same JSON as json.dumps(scores.component_dicts()[i]), about four times faster."""
    template = "{" + ", ".join(f'"{name}": %s' for name in influence.COMPONENT_NAMES) + "}"
    columns = [np.where(np.isnan(scores.components[name]), None, scores.components[name])
               for name in influence.COMPONENT_NAMES]
    texts = [[("null" if v is None else repr(v)) for v in column.tolist()] for column in columns]
    return [template % values for values in zip(*texts, strict=True)]


def _assess_bots(detector: Any, rows: list[Any], values: list[dict[str, Any]],
                 summary: ScoreSummary) -> None:
    clock = time.perf_counter()
    # The detector sees this run's score and percentile, not the stale stored ones.
    assessments = detector.assess([
        {**row._mapping, "influence_score": value["b_score"],
         "influence_percentile": value["b_percentile"], "score_confidence": value["b_confidence"],
         "score_version": value["b_version"]}
        for row, value in zip(rows, values, strict=True)])
    for value, assessment in zip(values, assessments, strict=True):
        value["b_bot_probability"] = float(assessment.probability)
        value["b_bot_reasons"] = json.dumps(list(assessment.reasons))
        value["b_bot_model_version"] = detector.version
        # NULL when no rule fired, so "has a rule flag" is a plain IS NOT NULL in matching.
        value["b_bot_flags"] = (json.dumps(list(assessment.rule_flags))
                                if assessment.rule_flags else None)
        summary.bots_flagged += bool(assessment.flagged)
    summary.timings["bots"] += time.perf_counter() - clock


def _write_scores(session: Session, values: list[dict[str, Any]], with_bots: bool) -> None:
    columns = {"influence_score": "b_score", "influence_percentile": "b_percentile",
               "score_components": "b_components", "score_version": "b_version",
               "score_confidence": "b_confidence", "scored_at": "b_scored_at"}
    if with_bots:
        columns |= {"bot_probability": "b_bot_probability", "bot_reasons": "b_bot_reasons",
                    "bot_model_version": "b_bot_model_version", "bot_flags": "b_bot_flags"}
    json_columns = {"score_components", "bot_reasons", "bot_flags"}
    statement = update(ACCOUNT).where(ACCOUNT.c.id == bindparam("b_id")).values(
        {name: bindparam(param, type_=PreserialisedJSON if name in json_columns else None)
         for name, param in columns.items()})
    session.execute(statement, values)
