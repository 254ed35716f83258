"""Write clean records into the account store.

Upsert by (platform, id): a new account is inserted, a newer (or equally new) observation of a
stored account replaces it, an older one is counted as unchanged.

Rows are written in batches of `BATCH_SIZE`, each batch its own short transaction, so an import
never holds SQLite's write lock for more than a batch (other writers wait a fraction of a
second, readers never). A file that breaks half-way still leaves the database as it was: each
batch records in `import_undo` what it changed (the earlier values of updated accounts, the
people it created; inserted accounts carry the run's id), and `undo_import` takes it all back
out. The undo record is dropped when the file is done.
"""

import csv
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, delete, false, insert, select, text, update
from sqlmodel import Session

from perks.accounts import topic_ids_by_slug
from perks.accounts.lists import add_members, drop_import_members
from perks.importing.columns import normalize_batch
from perks.importing.readers import BadLine, ImportFormatError, open_source, read_records
from perks.importing.records import RowError
from perks.importing.writes import insert_accounts
from perks.models import Account, AccountTopic, ImportRun, ImportUndo, Person, utcnow
from perks.privacy.minors import probable_minor
from perks.privacy.suppression import SuppressionIndex
from perks.topics import unknown_slugs_message

BATCH_SIZE = 2000
READ_CHUNK = 1000  # records validated together, column by column (perks.importing.columns)
ANALYZE_AT_BATCHES = {5, 25, 125, 625}  # 10k, 50k, 250k, 1.25M rows
REJECT_COLUMNS = ("line", "field", "reason")
ACCOUNT = Account.__table__
_UNDO_CHUNK = 2000
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
    def rows_read(self) -> int:
        """Records counted so far (every record read ends in exactly one count)."""
        return (self.imported + self.updated + self.unchanged + self.rejected
                + self.suppressed)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


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


def default_rejects_path(path: Path, fallback_dir: Path | None) -> Path:
    """`<file>.rejects.csv` beside the input when that folder is writable, else in
    `fallback_dir` (the instance folder): an import never writes into a system folder."""
    name = path.name + ".rejects.csv"
    folder = path.resolve().parent
    if fallback_dir is None or os.access(folder, os.W_OK):
        return folder / name
    return fallback_dir / name


def import_file(session: Session, path: Path, *, observed_at: datetime | None = None,
                rejects_path: Path | None = None, fallback_dir: Path | None = None,
                mapping: tuple[tuple[str, str], ...] = (),
                progress: Callable[[int], None] | None = None,
                source_name: str | None = None, run_id: int | None = None,
                account_list_id: int | None = None) -> ImportResult:
    """Import one file; raise ImportFormatError (storing nothing) if it cannot be read whole
    or none of its records could be stored. Rejects go to `rejects_path`, by default
    default_rejects_path(path, fallback_dir); they are written even when the file fails.
    `source_name` is what accounts and messages call the file (default: its path); `run_id`
    an ImportRun made beforehand to record this import in (a web upload's);
    `account_list_id`: see import_records."""
    source = open_source(path)
    rejects = RejectsFile(rejects_path or default_rejects_path(path, fallback_dir))
    try:
        result = import_records(session, read_records(source),
                                source_name=source_name or str(path),
                                observed_at=observed_at, on_reject=rejects.write,
                                progress=progress, file_format=source.file_format,
                                mapping=mapping, run_id=run_id,
                                account_list_id=account_list_id)
    except ImportFormatError as error:
        written = rejects.close()
        if written:
            raise ImportFormatError(f"{error}; rejected rows, with line and reason: "
                                    f"{written}") from None
        raise
    finally:
        written = rejects.close()
    result.rejects_path = written
    result.warnings[:0] = source.warnings
    return result


def import_records(session: Session, records: Iterable[tuple[int, Any]], *, source_name: str,
                   observed_at: datetime | None = None,
                   on_reject: Callable[[int, str, str], None] | None = None,
                   progress: Callable[[int], None] | None = None,
                   file_format: str = "",
                   mapping: tuple[tuple[str, str], ...] = (),
                   run_id: int | None = None,
                   account_list_id: int | None = None) -> ImportResult:
    """Validate and upsert (line, raw record) pairs, committing batch by batch; each batch's
    commit also records the counts so far in the ImportRun (`run_id`'s, else a new one).

    With `account_list_id` (a brand's list, perks.accounts.lists) the accounts it inserts are
    list-only (shared = false) and every record it stores, inserted, updated or unchanged,
    becomes a member of the list. Without one (the shared pool) every account that arrives is
    shared. Memberships are written in the batches' transactions and undone with them.

    Rows on the suppression list are counted in `suppressed` and never stored; every stored
    row gets `probable_minor` from its bio (perks.privacy). When the records cannot be read
    to the end, or not one of them could be stored, everything written is undone and
    ImportFormatError says why.
    """
    started = time.perf_counter()
    default_observed_at = observed_at or utcnow()
    now = datetime.now(UTC)
    result = ImportResult(source=source_name, file_format=file_format)
    run = session.get(ImportRun, run_id) if run_id is not None else None
    if run is None:
        run = ImportRun(source_file=source_name, file_format=file_format)
    run.source_file, run.file_format, run.status = source_name, file_format, "running"
    run.started_at, run.account_list_id = utcnow(), account_list_id
    session.add(run)
    session.commit()  # the run must exist before a batch's undo rows point at it
    writer = _BatchWriter(session, run_id=run.id, source_name=source_name, result=result,
                          list_id=account_list_id)
    suppression = SuppressionIndex.load(session)
    defaulted_observation = 0
    reasons: Counter[str] = Counter()
    first_reject: tuple[int, str, str] | None = None
    try:
        for chunk in _chunks(records, READ_CHUNK):
            cleaned = iter(normalize_batch(
                [raw for _line, raw in chunk if not isinstance(raw, BadLine)],
                default_observed_at=default_observed_at, mapping=mapping, now=now))
            for line, raw in chunk:
                try:
                    if isinstance(raw, BadLine):
                        raise RowError(raw.field, raw.reason)
                    record = next(cleaned)
                    if isinstance(record, RowError):
                        raise record
                    suppressed = suppression.matches(record)
                    if not suppressed:
                        writer.check_topics(record)
                except RowError as error:
                    if suppression.matches_raw(raw):  # never quote a forgotten person
                        result.suppressed += 1
                    else:
                        result.rejected += 1
                        reasons[f"{error.field}: {error.reason}"[:120]] += 1
                        first_reject = first_reject or (line, error.field, error.reason)
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
                progress(len(chunk))
        writer.flush()
        _check_something_stored(result, first_reject, reasons)
    except BaseException as error:  # a format error, or an interrupt: take the file back out
        session.rollback()
        undo_import(session, run.id)
        _mark_failed(session, run, str(error) or type(error).__name__, result)
        raise
    if defaulted_observation and observed_at is None:
        result.warnings.append(
            f"{defaulted_observation} records carry no observation time (crawled_at, updated, "
            "a tweet's created_at); the import time was used: pass --observed-at to set it")
    result.seconds = time.perf_counter() - started
    for name in ("imported", "updated", "unchanged", "rejected", "suppressed"):
        setattr(run, name, getattr(result, name))
    run.rows_read, run.progress_at = result.rows_read, utcnow()
    run.status, run.finished_at, run.seconds = "done", utcnow(), result.seconds
    session.add(run)
    session.commit()
    _drop_undo(session, run.id)
    result.import_run_id = run.id
    return result


def _chunks(records: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    """`records` in lists of `size`; when reading fails, the records read before the failure
    still come out (so their rejects are written) before the error goes on."""
    chunk: list[tuple[int, Any]] = []
    try:
        for item in records:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except Exception:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def _check_something_stored(result: ImportResult, first_reject: tuple[int, str, str] | None,
                            reasons: Counter[str]) -> None:
    """A file none of whose records could be stored fails as a whole, saying why."""
    if result.imported or result.updated or result.unchanged or result.suppressed:
        return
    if first_reject is None:
        raise ImportFormatError(f"{result.source}: the file holds no account records")
    line, field_name, reason = first_reject
    first = f"{field_name}: {reason}"[:120]
    others = "; ".join(f"{text} ({count:,})" for text, count in reasons.most_common(3)
                       if text != first)
    raise ImportFormatError(
        f"{result.source}: none of its {result.rejected:,} records could be stored; line "
        f"{line}: {field_name}: {reason}"
        + (f" ({reasons[first]:,} records alike)" if reasons[first] > 1 else "")
        + (f"; also {others}" if others else ""))


def _mark_failed(session: Session, run: ImportRun, error: str, result: ImportResult) -> None:
    # The batches' counts were taken back out with their rows; the rejects stand.
    session.execute(update(ImportRun).where(ImportRun.id == run.id).values(
        status="failed", error=error[:2000], finished_at=utcnow(), imported=0, updated=0,
        unchanged=0, suppressed=0, rejected=result.rejected, rows_read=result.rows_read))
    session.commit()


def undo_import(session: Session, run_id: int | None) -> None:
    """Take back out what import run `run_id` wrote: restore the accounts it updated, delete
    the accounts and people it created, the list memberships it added. In short transactions,
    like the import itself."""
    undo = ImportUndo.__table__
    drop_import_members(session, run_id)
    session.commit()
    datetimes = {c.name for c in ACCOUNT.c if _is_datetime(c.type)}
    last = 0
    while True:
        rows = session.execute(
            select(undo.c.id, undo.c.account_id, undo.c.before)
            .where(undo.c.import_run_id == run_id, undo.c.id > last, undo.c.account_id.is_not(None))
            .order_by(undo.c.id).limit(_UNDO_CHUNK)).all()
        if not rows:
            break
        last = rows[-1].id
        for _id, account_id, before in rows:
            values = {k: (datetime.fromisoformat(v) if k in datetimes and v else v)
                      for k, v in before.items() if k != "topics"}
            session.execute(update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(values))
            if before.get("topics") is not None:
                session.execute(delete(AccountTopic).where(
                    AccountTopic.account_id == account_id, AccountTopic.source == "imported"))
                if before["topics"]:
                    session.execute(insert(AccountTopic), [
                        {"account_id": account_id, "topic_id": t, "weight": w,
                         "source": "imported", "evidence": e} for t, w, e in before["topics"]])
        session.commit()
    while True:
        ids = session.execute(select(ACCOUNT.c.id).where(ACCOUNT.c.import_run_id == run_id)
                              .limit(_UNDO_CHUNK)).scalars().all()
        if not ids:
            break
        session.execute(delete(ACCOUNT).where(ACCOUNT.c.id.in_(ids)))
        session.commit()
    people = session.execute(select(undo.c.person_id).where(
        undo.c.import_run_id == run_id, undo.c.person_id.is_not(None))).scalars().all()
    for start in range(0, len(people), _UNDO_CHUNK):
        session.execute(delete(Person).where(Person.id.in_(people[start:start + _UNDO_CHUNK])))
        session.commit()
    _drop_undo(session, run_id)


def _is_datetime(column_type: Any) -> bool:
    return isinstance(getattr(column_type, "impl_instance", column_type), DateTime)


def _drop_undo(session: Session, run_id: int | None) -> None:
    undo = ImportUndo.__table__
    while True:
        ids = session.execute(select(undo.c.id).where(undo.c.import_run_id == run_id)
                              .limit(5 * _UNDO_CHUNK)).scalars().all()
        if not ids:
            return
        session.execute(delete(undo).where(undo.c.id.in_(ids)))
        session.commit()


class _BatchWriter:
    """Collects clean records and upserts them a batch at a time."""

    def __init__(self, session: Session, *, run_id: int | None, source_name: str,
                 result: ImportResult, list_id: int | None = None):
        self.session = session
        self.list_id = list_id
        self.run_id = run_id
        self.source_name = source_name
        self.result = result
        self.topic_ids = topic_ids_by_slug(session)
        self.pending: dict[tuple[str, str], dict[str, Any]] = {}
        self.batches = 0

    def check_topics(self, record: dict[str, Any]) -> None:
        if not record["topics"]:
            return
        unknown = sorted(set(record["topics"]) - self.topic_ids.keys())
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
        inserts, updates, unchanged = [], [], []
        # A list import leaves whether a stored account is shared alone; a shared one shares it.
        shared = {} if self.list_id else {"shared": True}
        for record in batch:
            known = stored.get((record["platform"], record["platform_id"]))
            if known is None:
                inserts.append(record)
            elif record["observed_at"] >= known[1]:
                row = {k: v for k, v in record.items() if k not in ("topics", "person_key")}
                row.update(person_id=person_ids.get(record["person_key"]),
                           source_file=self.source_name, import_run_id=self.run_id,
                           updated_at=now, id=known[0], **shared)
                updates.append(row)
            else:
                self.result.unchanged += 1
                unchanged.append(known[0])
                record["topics"] = None  # an old observation does not replace topics either
        if inserts:
            insert_accounts(self.session, inserts, person_ids, {
                "source_file": self.source_name, "import_run_id": self.run_id,
                "updated_at": now, "first_imported_at": now, "shared": not self.list_id})
        if updates:
            self._keep_for_undo(updates, [r for r in batch if r["topics"]])
            self.session.execute(update(Account), updates)
        self.result.imported += len(inserts)
        self.result.updated += len(updates)
        self._replace_imported_topics([r for r in batch if r["topics"]])
        if self.list_id:
            add_members(self.session, list_id=self.list_id, import_run_id=self.run_id,
                        account_ids=[i for i, _seen in self._stored(batch).values()])
        elif unchanged:
            self._share(unchanged)
        self._record_progress()
        self.session.commit()  # one short transaction per batch: the write lock is let go

    def _share(self, account_ids: list[int]) -> None:
        """Older observations arriving in the shared pool still share a list-only account."""
        ids = self.session.execute(select(ACCOUNT.c.id).where(
            ACCOUNT.c.id.in_(account_ids), ACCOUNT.c.shared.is_(false()))).scalars().all()
        if ids:
            self.session.execute(insert(ImportUndo), [
                {"import_run_id": self.run_id, "account_id": i, "before": {"shared": False}}
                for i in ids])
            self.session.execute(update(ACCOUNT).where(ACCOUNT.c.id.in_(ids)).values(shared=True))

    def _record_progress(self) -> None:
        # In the batch's own transaction, so the counts a page shows are the rows committed.
        counts = {name: getattr(self.result, name) for name in (
            "imported", "updated", "unchanged", "rejected", "suppressed", "rows_read")}
        self.session.execute(update(ImportRun).where(ImportRun.id == self.run_id)
                             .values(**counts, progress_at=utcnow()))

    def _keep_for_undo(self, updates: list[dict[str, Any]],
                       with_topics: list[dict[str, Any]]) -> None:
        """Record the values the update will overwrite (and imported topics it replaces)."""
        names = [n for n in updates[0] if n != "id"]
        ids = [row["id"] for row in updates]
        old = {row[0]: row[1:] for row in self.session.execute(
            select(ACCOUNT.c.id, *[ACCOUNT.c[n] for n in names]).where(ACCOUNT.c.id.in_(ids)))}
        replaced = {(r["platform"], r["platform_id"]) for r in with_topics}
        topics: dict[int, list[Any]] = {}
        if replaced:
            topics = {row["id"]: [] for row in updates
                      if (row["platform"], row["platform_id"]) in replaced}
            for account_id, topic_id, weight, evidence in self.session.execute(
                    select(AccountTopic.account_id, AccountTopic.topic_id, AccountTopic.weight,
                           AccountTopic.evidence).where(AccountTopic.account_id.in_(topics),
                                                        AccountTopic.source == "imported")):
                topics[account_id].append([topic_id, weight, evidence])
        self.session.execute(insert(ImportUndo), [
            {"import_run_id": self.run_id, "account_id": account_id,
             "before": {**{n: (v.isoformat() if isinstance(v, datetime) else v)
                           for n, v in zip(names, values, strict=True)},
                        "topics": topics.get(account_id)}}
            for account_id, values in old.items()])

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
            created = {m["key"] for m in missing}
            known = dict(self.session.execute(query).all())
            self.session.execute(insert(ImportUndo), [
                {"import_run_id": self.run_id, "person_id": known[key]} for key in created])
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
