"""Write clean records into the account store.

Upsert by (platform, id): a new account is inserted, a newer (or equally new) observation of a
stored account replaces it, an older one is counted as unchanged.

Rows are written in batches of `BATCH_SIZE`, each batch its own short transaction, so an import
never holds SQLite's write lock for more than a batch (other writers wait a fraction of a
second, readers never). A file that breaks half-way still leaves the database as it was: each
batch records in `import_undo` what it changed and `undo_import` (perks.importing.undo) takes
it all back out. The undo record is dropped when the file is done. The batches themselves are
written by perks.importing.batches.
"""

import csv
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from perks.importing.batches import BatchWriter, ImportResult
from perks.importing.columns import normalize_batch
from perks.importing.readers import BadLine, ImportFormatError, open_source, read_records
from perks.importing.records import RowError
from perks.importing.undo import drop_undo, undo_import
from perks.models import Account, ImportRun, utcnow
from perks.privacy.minors import probable_minor
from perks.privacy.suppression import SuppressionIndex

READ_CHUNK = 1000  # records validated together, column by column (perks.importing.columns)
REJECT_COLUMNS = ("line", "field", "reason")
ACCOUNT = Account.__table__
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
    writer = BatchWriter(session, run_id=run.id, source_name=source_name, result=result,
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
    drop_undo(session, run.id)
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
