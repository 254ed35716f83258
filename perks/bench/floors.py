"""Floors: what the bare tools do with the same data, measured in the same run.

Each returns seconds (or per-repeat seconds) for work the pipeline also does, without the
pipeline's own costs: validation, ORM, eligibility rules, escaping. Raw DBAPI cursors only.
"""

import csv
import io
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine

from perks.importing.records import normalize_record

FLOOR_BATCH = 50_000


def _dbapi(engine: Engine) -> Any:
    return engine.raw_connection()


def _param(engine: Engine) -> str:
    return "?" if engine.dialect.name == "sqlite" else "%s"


def _db_value(value: Any, sqlite: bool) -> Any:
    # SQLAlchemy stores SQLite datetimes as ISO text; doing it here keeps the floor honest
    # (sqlite3's own datetime adapter is deprecated).
    if sqlite and isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ")
    return value


def _floor_rows(engine: Engine, records: Iterable[dict], observed_at: datetime
                ) -> Iterator[tuple[list[str], list[tuple]]]:
    """(columns, tuples) of the accounts the importer would store, FLOOR_BATCH at a time."""
    sqlite = engine.dialect.name == "sqlite"
    columns: list[str] | None = None
    batch: list[tuple] = []
    for raw in records:
        row = normalize_record(raw, default_observed_at=observed_at)
        row.pop("topics", None)
        row.pop("person_key", None)
        row.update(probable_minor=False, source_file="bench-floor", first_imported_at=observed_at,
                   updated_at=observed_at)
        row["unknown_counts"] = json.dumps(row["unknown_counts"])  # JSON null, as stored
        if columns is None:
            columns = list(row)
        batch.append(tuple(_db_value(row[c], sqlite) for c in columns))
        if len(batch) >= FLOOR_BATCH:
            yield columns, batch
            batch = []
    if batch and columns:
        yield columns, batch


def raw_insert(engine: Engine, records: Iterable[dict], *, observed_at: datetime) -> float:
    """Seconds spent in executemany + commit inserting the accounts the importer would store,
    one transaction; turning records into tuples is done outside the clock."""
    connection = _dbapi(engine)
    cursor = connection.cursor()
    spent = 0.0
    for columns, batch in _floor_rows(engine, records, observed_at):
        statement = (f"INSERT INTO account ({', '.join(columns)}) VALUES "  # noqa: S608 - names from our own records
                     f"({', '.join([_param(engine)] * len(columns))})")
        clock = time.perf_counter()
        cursor.executemany(statement, batch)
        spent += time.perf_counter() - clock
    clock = time.perf_counter()
    connection.commit()
    spent += time.perf_counter() - clock
    cursor.close()
    connection.close()
    return spent


def raw_copy(engine: Engine, records: Iterable[dict], *, observed_at: datetime) -> float:
    """PostgreSQL only: seconds spent in psycopg's COPY (write_row per tuple) + commit for the
    same accounts, one transaction; building the tuples is outside the clock."""
    connection = _dbapi(engine)
    spent = 0.0
    with connection.driver_connection.cursor() as cursor:
        for columns, batch in _floor_rows(engine, records, observed_at):
            clock = time.perf_counter()
            with cursor.copy(f"COPY account ({', '.join(columns)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
            spent += time.perf_counter() - clock
    clock = time.perf_counter()
    connection.commit()
    spent += time.perf_counter() - clock
    connection.close()
    return spent


def predict_seconds(estimator: Any, matrices: Sequence[np.ndarray]) -> float:
    """Bare predict_proba over the same feature matrices the detector built."""
    clock = time.perf_counter()
    for features in matrices:
        estimator.predict_proba(features)
    return time.perf_counter() - clock


def naive_join_sql(engine: Engine, n_topics: int) -> str:
    """The shortlist a developer would write first: join, filter, group, order, limit."""
    p = _param(engine)
    topics = ", ".join([p] * n_topics)
    # Only placeholders are formatted into this SQL.
    return (
        "SELECT a.id, MAX(t.weight) * a.influence_percentile / 100.0 AS relevance "  # noqa: S608
        "FROM account_topic t JOIN account a ON a.id = t.account_id "
        f"WHERE t.topic_id IN ({topics}) AND t.weight >= {p} "
        f"AND a.influence_percentile BETWEEN {p} AND {p} "
        "AND a.protected = FALSE AND COALESCE(a.is_minor, FALSE) = FALSE "
        "AND a.probable_minor = FALSE AND a.consent <> 'opted_out' "
        f"AND (a.bot_probability IS NULL OR a.bot_probability < {p}) AND a.bot_flags IS NULL "
        "GROUP BY a.id, a.influence_percentile ORDER BY relevance DESC, a.id LIMIT 500")


def time_naive_join(engine: Engine, topic_ids: list[int], params: tuple, repeats: int
                    ) -> list[float]:
    connection = _dbapi(engine)
    cursor = connection.cursor()
    sql = naive_join_sql(engine, len(topic_ids))
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        cursor.execute(sql, (*topic_ids, *params))
        cursor.fetchall()
        times.append(time.perf_counter() - clock)
    cursor.close()
    connection.close()
    return times


def _fetch_array(cursor: Any, sql: str, chunk: int = 100_000) -> np.ndarray:
    """A query's rows as one float matrix, fetched in chunks so no big tuple list is held."""
    cursor.execute(sql)
    width = len(cursor.description)
    parts = []
    while rows := cursor.fetchmany(chunk):
        parts.append(np.array(rows, dtype=np.float64).reshape(-1, width))
    return np.concatenate(parts) if parts else np.empty((0, width))


class InMemory:
    """The pool as numpy columns, as a notebook would hold it, for the in-memory floor."""

    def __init__(self, engine: Engine):
        connection = _dbapi(engine)
        cursor = connection.cursor()
        topic_rows = _fetch_array(cursor, "SELECT account_id, topic_id, weight FROM account_topic")
        accounts = _fetch_array(
            cursor, "SELECT id, COALESCE(influence_percentile, -1), (protected OR "
            "COALESCE(is_minor, FALSE) OR probable_minor OR consent = 'opted_out' OR "
            "bot_flags IS NOT NULL) FROM account")
        bots = _fetch_array(cursor, "SELECT id, COALESCE(bot_probability, 0) FROM account")
        cursor.close()
        connection.close()
        size = int(accounts[:, 0].max()) + 1 if len(accounts) else 1
        self.percentile = np.full(size, -1.0)
        self.percentile[accounts[:, 0].astype(np.int64)] = accounts[:, 1]
        self.blocked = np.ones(size, dtype=bool)
        self.blocked[accounts[:, 0].astype(np.int64)] = accounts[:, 2] > 0
        self.bot = np.zeros(size)
        self.bot[bots[:, 0].astype(np.int64)] = bots[:, 1]
        self.account = topic_rows[:, 0].astype(np.int64)
        self.topic = topic_rows[:, 1].astype(np.int64)
        self.weight = topic_rows[:, 2]

    def top(self, topic_ids: list[int], min_weight: float, lo: float, hi: float,
            threshold: float, k: int = 500) -> np.ndarray:
        mask = np.isin(self.topic, topic_ids) & (self.weight >= min_weight)
        accounts, weights = self.account[mask], self.weight[mask]
        pct = self.percentile[accounts]
        ok = (pct >= lo) & (pct <= hi) & ~self.blocked[accounts] & (self.bot[accounts] < threshold)
        accounts, relevance = accounts[ok], weights[ok] * pct[ok] / 100.0
        take = min(len(relevance), 2 * k)  # an account can match both topics
        best = np.argpartition(-relevance, take - 1)[:take] if take else np.array([], int)
        best = best[np.lexsort((accounts[best], -relevance[best]))]
        _, first = np.unique(accounts[best], return_index=True)
        return accounts[best[np.sort(first)][:k]]


def time_read_and_write_csv(engine: Engine, sql: str, repeats: int) -> tuple[int, list[float]]:
    """The same rows the export writes, read by its own SELECT (values inlined) on a raw DBAPI
    cursor and put through a bare csv.writer: (rows, seconds per repeat)."""
    connection = _dbapi(engine)
    cursor = connection.cursor()
    times, rows = [], 0
    for _ in range(repeats):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        clock = time.perf_counter()
        cursor.execute(sql)
        fetched = cursor.fetchall()
        writer.writerows(fetched)
        times.append(time.perf_counter() - clock)
        rows = len(fetched)
    cursor.close()
    connection.close()
    return rows, times


def time_topic_count(engine: Engine, topic_ids: list[int], min_weight: float, repeats: int
                     ) -> list[float]:
    """COUNT of the accounts carrying the topics: the one number every funnel count needs."""
    p = _param(engine)
    sql = ("SELECT COUNT(DISTINCT account_id) FROM account_topic "  # noqa: S608 - placeholders
           f"WHERE topic_id IN ({', '.join([p] * len(topic_ids))}) AND weight >= {p}")
    connection = _dbapi(engine)
    cursor = connection.cursor()
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        cursor.execute(sql, (*topic_ids, min_weight))
        cursor.fetchall()
        times.append(time.perf_counter() - clock)
    cursor.close()
    connection.close()
    return times


def automaton_seconds(inferrer: Any, chunks: list[list[str]]) -> float:
    """Seconds for the inferrer's automaton alone over the chunks, buffers prepared beforehand:
    what topic inference cannot beat."""
    from perks.topics.infer import prepare_buffer

    buffers = [prepare_buffer(chunk) for chunk in chunks]
    clock = time.perf_counter()
    for buffer in buffers:
        inferrer.automaton_.find_matches_as_indexes(buffer, overlapping=True)
    return time.perf_counter() - clock
