"""Write clean records into the account store.

Upsert by (platform, id): a new account is inserted, a newer (or equally new) observation of a
stored account replaces it, an older one is counted as unchanged. Rows are written in batches
of `BATCH_SIZE` with executemany, all inside one transaction per file, so a file that breaks
half-way leaves the database exactly as it was.
"""

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlmodel import Session

from perks.accounts import topic_ids_by_slug
from perks.importing.readers import BadLine, ImportFormatError, open_source, read_records
from perks.importing.records import RowError, normalize_record
from perks.models import Account, AccountTopic, ImportRun, Person, utcnow
from perks.privacy.minors import probable_minor
from perks.privacy.suppression import SuppressionIndex
from perks.topics import unknown_slugs_message

BATCH_SIZE = 2000
ANALYZE_AT_BATCHES = {5, 25, 125, 625}  # 10k, 50k, 250k, 1.25M rows
REJECT_COLUMNS = ("line", "field", "reason")


@dataclass
class ImportResult:
    source: str
    file_format: str = ""
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    suppressed: int = 0  # on the suppression list: skipped, never stored (perks.privacy)
    seconds: float = 0.0
    rejects_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    import_run_id: int | None = None

    @property
    def rows_per_second(self) -> float:
        total = (self.imported + self.updated + self.unchanged + self.rejected
                 + self.suppressed)
        return total / self.seconds if self.seconds else 0.0


class RejectsFile:
    """`<file>.rejects.csv`, opened on the first reject so clean imports leave no file behind."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None
        self._writer: Any = None
        path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead

    def write(self, line: int, field_name: str, reason: str) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(REJECT_COLUMNS)
        self._writer.writerow((line, field_name, reason))

    def close(self) -> str | None:
        if self._handle is None:
            return None
        self._handle.close()
        return str(self.path)


def import_file(session: Session, path: Path, *, observed_at: datetime | None = None,
                rejects_path: Path | None = None,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import one file; raise ImportFormatError (storing nothing) if it cannot be read whole."""
    source = open_source(path)
    rejects = RejectsFile(rejects_path or path.with_name(path.name + ".rejects.csv"))
    try:
        result = import_records(session, read_records(source), source_name=str(path),
                                observed_at=observed_at, on_reject=rejects.write,
                                progress=progress, file_format=source.file_format)
    finally:
        written = rejects.close()
    result.rejects_path = written
    result.warnings[:0] = source.warnings
    return result


def import_records(session: Session, records: Iterable[tuple[int, Any]], *, source_name: str,
                   observed_at: datetime | None = None,
                   on_reject: Callable[[int, str, str], None] | None = None,
                   progress: Callable[[int], None] | None = None,
                   file_format: str = "") -> ImportResult:
    """Validate and upsert (line, raw record) pairs in one transaction; commit at the end.

    Rows on the suppression list are counted in `suppressed` and never stored; every stored
    row gets `probable_minor` from its bio (perks.privacy).
    """
    started = time.perf_counter()
    default_observed_at = observed_at or utcnow()
    result = ImportResult(source=source_name, file_format=file_format)
    run = ImportRun(source_file=source_name, file_format=file_format)
    session.add(run)
    session.flush()
    writer = _BatchWriter(session, run_id=run.id, source_name=source_name, result=result)
    suppression = SuppressionIndex.load(session)
    defaulted_observation = 0
    try:
        for line, raw in records:
            try:
                if isinstance(raw, BadLine):
                    raise RowError(raw.field, raw.reason)
                record = normalize_record(raw, default_observed_at=default_observed_at)
                suppressed = suppression.matches(record)
                if not suppressed:
                    writer.check_topics(record)
            except RowError as error:
                if suppression.matches_raw(raw):  # never quote a forgotten person in rejects
                    result.suppressed += 1
                else:
                    result.rejected += 1
                    if on_reject:
                        on_reject(line, error.field, error.reason)
            else:
                if suppressed:
                    result.suppressed += 1
                else:
                    defaulted_observation += record["observed_at"] is default_observed_at
                    record["probable_minor"] = probable_minor(
                        record["description"], observed_at=record["observed_at"])
                    writer.add(record)
            if progress:
                progress(1)
        writer.flush()
    except ImportFormatError as error:
        session.rollback()
        _record_failed_run(session, source_name, file_format, str(error))
        raise
    if defaulted_observation and observed_at is None:
        result.warnings.append(
            f"{defaulted_observation} records carry no observation time (crawled_at, updated, "
            "a tweet's created_at); the import time was used: pass --observed-at to set it")
    result.seconds = time.perf_counter() - started
    for name in ("imported", "updated", "unchanged", "rejected", "suppressed"):
        setattr(run, name, getattr(result, name))
    run.status, run.finished_at, run.seconds = "done", utcnow(), result.seconds
    session.commit()
    result.import_run_id = run.id
    return result


def _record_failed_run(session: Session, source_name: str, file_format: str, error: str) -> None:
    session.add(ImportRun(source_file=source_name, file_format=file_format, status="failed",
                          error=error[:2000], finished_at=utcnow()))
    session.commit()


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """One DBAPI executemany in the session's transaction: the rows' types are already the
    columns' (normalize_record made them), so only the dialect's bind processors (SQLite's
    datetime text) run, not SQLAlchemy's per-row parameter machinery (a third of import time)."""
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    table = Account.__table__
    processors = [(i, processor) for i, name in enumerate(names)
                  if (processor := table.c[name].type._cached_bind_processor(dialect))]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO account ({', '.join(names)}) "  # noqa: S608 - column names
                 f"VALUES ({', '.join([marker] * len(names))})")
    values = []
    for row in rows:
        cells = [row[name] for name in names]
        for i, processor in processors:
            cells[i] = processor(cells[i])
        values.append(tuple(cells))
    connection.exec_driver_sql(statement, values)


class _BatchWriter:
    """Collects clean records and upserts them a batch at a time."""

    def __init__(self, session: Session, *, run_id: int | None, source_name: str,
                 result: ImportResult):
        self.session = session
        self.run_id = run_id
        self.source_name = source_name
        self.result = result
        self.topic_ids = topic_ids_by_slug(session)
        self.pending: dict[tuple[str, str], dict[str, Any]] = {}
        self.batches = 0

    def check_topics(self, record: dict[str, Any]) -> None:
        unknown = sorted(set(record["topics"] or ()) - self.topic_ids.keys())
        if unknown:
            raise RowError("topics", unknown_slugs_message(unknown[:5], self.topic_ids.keys()))

    def add(self, record: dict[str, Any]) -> None:
        key = (record["platform"], record["platform_id"])
        earlier = self.pending.get(key)
        if earlier is not None:
            # The same account twice in one file: keep the newer observation.
            self.result.unchanged += 1
            if earlier["observed_at"] > record["observed_at"]:
                return
        self.pending[key] = record
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = list(self.pending.values()), {}
        self.batches += 1
        if self.batches in ANALYZE_AT_BATCHES and self.session.get_bind().dialect.name != "sqlite":
            # PostgreSQL plans the lookup of stored ids from statistics taken when the table
            # was small; inside one big transaction autovacuum never refreshes them, the
            # lookup turns into a sequential scan and a 1M import goes quadratic.
            self.session.execute(text("ANALYZE account"))
        person_ids = self._person_ids({r["person_key"] for r in batch if r["person_key"]})
        stored = self._stored(batch)
        now = utcnow()
        inserts, updates = [], []
        for record in batch:
            row = {k: v for k, v in record.items() if k not in ("topics", "person_key")}
            row.update(person_id=person_ids.get(record["person_key"]), source_file=self.source_name,
                       import_run_id=self.run_id, updated_at=now)
            known = stored.get((record["platform"], record["platform_id"]))
            if known is None:
                inserts.append(row | {"first_imported_at": now})
            elif record["observed_at"] >= known[1]:
                updates.append(row | {"id": known[0]})
            else:
                self.result.unchanged += 1
                record["topics"] = None  # an old observation does not replace topics either
        if inserts:
            _insert_rows(self.session, inserts)
        if updates:
            self.session.execute(update(Account), updates)
        self.result.imported += len(inserts)
        self.result.updated += len(updates)
        self._replace_imported_topics([r for r in batch if r["topics"]])

    def _stored(self, batch: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, datetime]]:
        stored = {}
        for platform in {r["platform"] for r in batch}:
            ids = [r["platform_id"] for r in batch if r["platform"] == platform]
            rows = self.session.execute(
                select(Account.id, Account.platform_id, Account.observed_at)
                .where(Account.platform == platform, Account.platform_id.in_(ids)))
            stored.update({(platform, pid): (id_, seen) for id_, pid, seen in rows})
        return stored

    def _person_ids(self, keys: set[str]) -> dict[str, int]:
        if not keys:
            return {}
        query = select(Person.key, Person.id).where(Person.key.in_(keys))
        known = dict(self.session.execute(query).all())
        missing = [{"key": key, "created_at": utcnow()} for key in keys - known.keys()]
        if missing:
            self.session.execute(insert(Person), missing)
            known = dict(self.session.execute(query).all())
        return known

    def _replace_imported_topics(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        account_ids = {key: id_ for key, (id_, _seen) in self._stored(records).items()}
        keys = [(r["platform"], r["platform_id"]) for r in records]
        # Topics given by the import win over inferred ones (DESIGN.md).
        self.session.execute(delete(AccountTopic).where(
            AccountTopic.account_id.in_([account_ids[key] for key in keys])))
        self.session.execute(insert(AccountTopic), [
            {"account_id": account_ids[key], "topic_id": self.topic_ids[slug], "weight": weight,
             "source": "imported", "evidence": ["given by the import"]}
            for key, r in zip(keys, records, strict=True) for slug, weight in r["topics"].items()])
