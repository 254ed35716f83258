"""`perks score`: one pass over the pool that writes influence, percentile, topics and bot scores.

Accounts whose inputs and versions did not change since they were last scored are skipped
(score version, bot model version, taxonomy fingerprint, percentile reference, `updated_at`
against `scored_at`); the rest are read, scored and written in chunks ordered by id, so memory
stays bounded:

1. Only when a percentile reference must be taken (a score version's first run, or
   `recalibrate`): the score inputs as numpy columns, every account's new score kept as one
   float array (8 bytes an account).
2. Per chunk of accounts to score: the inputs plus bio and posts; a snapshot of scores from an
   older version, then influence, components, confidence, percentile, topics and bot
   probability, written as one executemany of plain tuples per statement (perks.scoring.bulk),
   committed per chunk. Old and new scores of accounts from another SCORE_VERSION are kept for
   the "what moved" report.

A snapshot marks a change of formula, not of data: re-running with the same SCORE_VERSION
takes none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, extract, func, or_, select, text
from sqlmodel import Session

from perks.accounts import rank_rows, sync_topics, topic_ids_by_slug
from perks.detection.features import AccountColumns
from perks.models import Account, utcnow
from perks.scoring import influence
from perks.scoring.bulk import Statements
from perks.scoring.influence import CONFIDENCE_STATES, InfluenceInputs, score_influence
from perks.scoring.percentiles import Reference, calibrate, current_reference
from perks.scoring.topic_rows import (
    record_taxonomy,
    stored_taxonomy,
    topic_text,
    write_inferred_topics,
)
from perks.scoring.versions import VersionChanges, snapshot_older_versions
from perks.topics import TopicInferrer, fingerprint

ACCOUNT = Account.__table__


@dataclass
class ScoreSummary:
    """What one `score_pool` run did; `perks score` prints it."""

    accounts: int = 0  # in the pool
    skipped: int = 0  # of those, unchanged since their last scoring and not recomputed
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
    def scored(self) -> int:
        """Accounts recomputed in this run."""
        return self.accounts - self.skipped

    @property
    def accounts_per_second(self) -> float:
        """Accounts recomputed per second of the run."""
        return self.scored / self.seconds if self.seconds else 0.0


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
               detector: Any | None = None, recalibrate: bool = False,
               rescore_all: bool = False) -> ScoreSummary:
    """Recompute influence, percentile, confidence, inferred topics and (with a detector) bot
    probabilities for every account whose inputs or versions changed since it was last scored;
    commit per chunk and return a summary.

    An account is skipped (`summary.skipped`) when it was scored under this SCORE_VERSION, this
    bot model (with a detector), after the percentile reference was taken and after it was
    last imported (`updated_at`), and the taxonomy is the one the last run recorded.
    `rescore_all`, a new or recalibrated reference and a changed taxonomy rescore everyone.

    Topics the import gave (source "imported") are kept; inferred rows are replaced, and an
    inferred topic the import already gave is skipped. Without `detector` the bot columns are
    left as they are and `summary.bots` says so. `progress(n)` is called after each written
    chunk with its number of accounts, and once with the number skipped.

    Percentiles are read against the score version's stored reference distribution
    (perks.scoring.percentiles), set by the version's first run; `recalibrate` replaces it
    with this pool's distribution and the summary reports how far percentiles moved.
    """
    started = time.perf_counter()
    version = influence.SCORE_VERSION
    summary = ScoreSummary(score_version=version, timings=dict.fromkeys(
        ("read", "numeric", "topics", "bots", "write", "rank_rows"), 0.0))
    if detector is not None:
        summary.bots, summary.bot_model_version, summary.bots_flagged = (
            "scored", detector.version, 0)
    age = _age_days(session)
    summary.accounts = session.execute(select(func.count()).select_from(ACCOUNT)).scalar_one()
    # The whole pool's scores are needed only to take a reference distribution.
    needs_pool = recalibrate or current_reference(session, version) is None
    pool = _pool_scores(session, age, chunk_size, summary) if needs_pool else np.empty(0)
    reference, calibration = calibrate(session, version, pool, recalibrate=recalibrate)
    del pool
    if calibration is not None:
        summary.percentile_reference = {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in vars(calibration).items()}
    rank_rows.ensure_indexes(session)  # a first fill that stopped half-way left them out
    inferrer = TopicInferrer()
    sync_topics(session, inferrer.taxonomy)
    topic_ids = topic_ids_by_slug(session)
    state = stored_taxonomy(session)
    same_taxonomy = state is not None and state.fingerprint == fingerprint(inferrer.taxonomy)
    everyone = (rescore_all or not same_taxonomy or calibration is None
                or calibration.action != "kept")
    stale = None if everyone else _stale(version, detector, reference)
    summary.confidence = dict.fromkeys(CONFIDENCE_STATES, 0)
    changes = VersionChanges()
    scored_at = utcnow()
    columns = _second_pass_columns(age, detector)
    scored, last_id = 0, None
    with (rank_rows.built_after_first_fill(session, accounts=summary.accounts) as first_fill,
          _single_threaded(detector is not None)):
        while True:
            clock = time.perf_counter()
            rows = _chunk(session, columns, last_id, chunk_size, stale)
            summary.timings["read"] += time.perf_counter() - clock
            if not rows:
                break
            first_id, last_id = rows[0].id, rows[-1].id
            summary.snapshots += snapshot_older_versions(session, first_id, last_id, version,
                                                         scored_at)
            values = _score_chunk(rows, reference, version, summary, changes)
            if detector is not None:
                _assess_bots(detector, rows, values, summary)
            written = and_(ACCOUNT.c.id.between(first_id, last_id),
                           ACCOUNT.c.scored_at == scored_at)
            with Statements(session).page_cache(), rank_rows.refreshed_after(session, written):
                clock = time.perf_counter()
                counts = write_inferred_topics(
                    session, inferrer=inferrer, topic_ids=topic_ids, account_ids=values["id"],
                    texts=[topic_text(r.description, r.post_text) for r in rows])
                summary.topics_inferred += counts.rows
                summary.accounts_with_topics += counts.accounts
                summary.imported_topics_kept += counts.imported_kept
                summary.timings["topics"] += time.perf_counter() - clock
                clock = time.perf_counter()
                _write_scores(session, values, scored_at)
                summary.timings["write"] += time.perf_counter() - clock
                clock = time.perf_counter()
            summary.timings["rank_rows"] += time.perf_counter() - clock
            session.commit()
            scored += len(rows)
            if progress:
                progress(len(rows))
    if first_fill.active:  # the rank indexes were left out of this first fill, built after
        summary.timings["rank_indexes"] = first_fill.build_seconds
    summary.skipped = summary.accounts - scored
    if progress and summary.skipped:
        progress(summary.skipped)
    changes.report(summary)
    # Every account now has its topics from this taxonomy: re-inferred, or skipped because
    # they already came from it.
    summary.taxonomy_changed = record_taxonomy(session, inferrer.taxonomy)
    summary.taxonomy_fingerprint = fingerprint(inferrer.taxonomy)
    if scored and session.get_bind().dialect.name == "postgresql":
        # A bulk rewrite leaves the planner's statistics behind (the rank index walks and the
        # funnel's counts are planned from them); ANALYZE samples a fixed number of rows, so it
        # takes seconds at 10M. (SQLite keeps no statistics unless asked, and is not asked.)
        clock = time.perf_counter()
        session.execute(text("ANALYZE account, account_topic, topic_rank"))
        summary.timings["analyze"] = time.perf_counter() - clock
    session.commit()
    summary.seconds = time.perf_counter() - started
    return summary


# The model's predict_proba with OpenMP threads on this 2-core machine, shared with other
# work, ran at 11-25k rows/s against 48-63k/s on one thread (same 20k rows, same minute), and
# the other core has this process's own SQLite and Python work to do.
PREDICT_THREADS = 1


@contextmanager
def _single_threaded(active: bool) -> Iterator[None]:
    if not active:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=PREDICT_THREADS, user_api="openmp"):
        yield


def _stale(version: str, detector: Any | None, reference: Reference | None) -> Any:
    """SQL: the account must be scored again (see score_pool)."""
    c = ACCOUNT.c
    stale = or_(c.scored_at.is_(None), c.influence_score.is_(None),
                c.score_version.is_distinct_from(version), c.scored_at < c.updated_at)
    if reference is not None:
        stale = or_(stale, c.scored_at < reference.created_at)
    if detector is not None:
        stale = or_(stale, c.bot_model_version.is_distinct_from(detector.version))
    return stale


def _age_days(session: Session) -> Any:
    """SQL for the account's age in days at observation, so no datetimes reach Python."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(Account.observed_at) - func.julianday(Account.created_at)
    return extract("epoch", Account.observed_at - Account.created_at) / 86400.0


def _input_columns(age: Any) -> list[Any]:
    return [ACCOUNT.c.followers_count, ACCOUNT.c.statuses_count, ACCOUNT.c.favourites_count,
            ACCOUNT.c.listed_count, ACCOUNT.c.posts_per_day, age.label("age_days")]


def _chunk(session: Session, columns: list[Any], after_id: int | None, size: int,
           where: Any | None = None) -> list[Any]:
    query = select(ACCOUNT.c.id, *columns).order_by(ACCOUNT.c.id).limit(size)
    if after_id is not None:
        query = query.where(ACCOUNT.c.id > after_id)
    if where is not None:
        query = query.where(where)
    # On the connection, not the session: the ORM's result path costs a third more per row.
    return session.connection().execute(query).all()


def _inputs(rows: list[Any]) -> InfluenceInputs:
    width = len(influence.INPUT_COLUMNS)
    return InfluenceInputs.from_rows([tuple(row)[1 : 1 + width] for row in rows])


def _pool_scores(session: Session, age: Any, chunk_size: int,
                 summary: ScoreSummary) -> np.ndarray:
    """Every account's new score, sorted: the distribution a percentile reference is taken
    from."""
    scores: list[np.ndarray] = []
    last_id = None
    while True:
        clock = time.perf_counter()
        rows = _chunk(session, _input_columns(age), last_id, chunk_size)
        summary.timings["read"] += time.perf_counter() - clock
        if not rows:
            break
        last_id = rows[-1].id
        clock = time.perf_counter()
        scores.append(score_influence(_inputs(rows)).score)
        summary.timings["numeric"] += time.perf_counter() - clock
    pool = np.concatenate(scores) if scores else np.empty(0)
    pool.sort()
    return pool


def _second_pass_columns(age: Any, detector: Any | None) -> list[Any]:
    columns = [*_input_columns(age), ACCOUNT.c.description, ACCOUNT.c.post_text,
               ACCOUNT.c.influence_score.label("old_score"),
               ACCOUNT.c.score_version.label("old_version")]
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


def _score_chunk(rows: list[Any], reference: Reference | None, version: str,
                 summary: ScoreSummary, changes: VersionChanges) -> dict[str, list[Any]]:
    """This chunk's new values, one list per column, in row order."""
    clock = time.perf_counter()
    scores = score_influence(_inputs(rows))
    percentiles = (reference.percentiles(scores.score) if reference is not None
                   else np.full(len(rows), np.nan))
    confidence = scores.confidence()
    for state in confidence:
        summary.confidence[state] += 1
    changes.add([r.old_score for r in rows], [r.old_version for r in rows], scores.score,
                version)
    values = {"id": [r.id for r in rows], "score": scores.score.tolist(),
              "percentile": percentiles.tolist(), "components": _components_json(scores),
              "version": [version] * len(rows), "confidence": confidence}
    summary.timings["numeric"] += time.perf_counter() - clock
    return values


def _components_json(scores: influence.InfluenceScores) -> list[str]:
    """The same JSON as json.dumps(scores.component_dicts()[i]), about four times faster."""
    template = "{" + ", ".join(f'"{name}": %s' for name in influence.COMPONENT_NAMES) + "}"
    columns = [np.where(np.isnan(scores.components[name]), None, scores.components[name])
               for name in influence.COMPONENT_NAMES]
    texts = [[("null" if v is None else repr(v)) for v in column.tolist()] for column in columns]
    return [template % values for values in zip(*texts, strict=True)]


def _assess_bots(detector: Any, rows: list[Any], values: dict[str, list[Any]],
                 summary: ScoreSummary) -> None:
    clock = time.perf_counter()
    # As columns: no dict per account. The detector sees this run's score and percentile,
    # not the stale stored ones.
    columns = dict(zip(rows[0]._fields, map(list, zip(*rows, strict=True)), strict=True))
    columns |= {"influence_score": values["score"], "influence_percentile": values["percentile"],
                "score_confidence": values["confidence"], "score_version": values["version"]}
    assessments = detector.assess(AccountColumns(columns))
    dumps = json.dumps
    probability, reasons, flags = [], [], []
    for assessment in assessments:
        probability.append(float(assessment.probability))
        # Most accounts have no reason: "[]" without calling the encoder.
        reasons.append(dumps(list(assessment.reasons)) if assessment.reasons else "[]")
        # NULL when no rule fired, so "has a rule flag" is a plain IS NOT NULL in matching.
        flags.append(dumps(list(assessment.rule_flags)) if assessment.rule_flags else None)
        summary.bots_flagged += bool(assessment.flagged)
    values |= {"bot_probability": probability, "bot_reasons": reasons,
               "bot_model_version": [detector.version] * len(rows), "bot_flags": flags}
    summary.timings["bots"] += time.perf_counter() - clock


_SCORE_COLUMNS = {"influence_score": "score", "influence_percentile": "percentile",
                  "score_components": "components", "score_version": "version",
                  "score_confidence": "confidence"}
_BOT_COLUMNS = ("bot_probability", "bot_reasons", "bot_model_version", "bot_flags")
_JSON_COLUMNS = {"score_components", "bot_reasons", "bot_flags"}


def _write_scores(session: Session, values: dict[str, list[Any]], scored_at: datetime) -> None:
    """Every account's new values, in one bulk update by primary key."""
    sql = Statements(session)
    names = {**_SCORE_COLUMNS, **{name: name for name in _BOT_COLUMNS if name in values},
             "scored_at": "scored_at"}
    when = sql.bind_value(ACCOUNT.c.scored_at, scored_at)
    values = values | {"scored_at": [when] * len(values["id"])}
    rows = list(zip(*(values[key] for key in names.values()), values["id"], strict=True))
    sql.update_rows("account", list(names), rows, json_names=_JSON_COLUMNS)
