"""A pool file uploaded through the web app, imported outside the request.

The web view records the upload as a queued ImportRun (`create_upload`), saves the file at
`upload_path` (the instance folder and the run's id: never a name the sender chose) and starts
`start_runner`, a separate process running `perks import-upload RUN_ID`, which calls
`run_upload`. The import commits per batch and records its counts with each batch, so the
progress page (`upload_status`) reads them while other requests go on: a separate process
keeps the web workers free for them, and outlives the request that started it.
"""

import logging
import os
import subprocess  # noqa: S404 - runs perks itself, with a fixed argument list
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from perks.accounts.lists import ListNameError, clean_list_name, get_or_create_list
from perks.importing.readers import EXTENSIONS, ImportFormatError
from perks.importing.shapes import parse_mapping
from perks.importing.store import ImportResult, import_file
from perks.models import ImportRun, utcnow

log = logging.getLogger(__name__)
FOLDER_NAME = "uploads"
ACTIVE = ("queued", "running")
# A run that has recorded no progress for this long no longer blocks its brand's next upload
# (its process died: a reboot, a kill).
STALLED_AFTER = timedelta(minutes=15)
RUNNER_CODE = "from perks.cli import main; main()"


class UploadError(ValueError):
    """An upload perks refuses before storing anything; the message says why."""


def upload_format(filename: str) -> str | None:
    """The import format a file name's extension stands for (the readers' list), or None."""
    return EXTENSIONS.get(Path(filename).suffix.lower())


def upload_folder(instance_path: Path) -> Path:
    """`<instance>/uploads`, readable by perks' own user only (it holds people's profiles)."""
    folder = Path(instance_path) / FOLDER_NAME
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def upload_path(folder: Path, run: ImportRun) -> Path:
    return folder / f"{run.id}.{run.file_format}"


def rejects_path(folder: Path, run_id: int) -> Path:
    return folder / f"{run_id}.rejects.csv"


def create_upload(session: Session, *, brand_id: int, user_id: int, filename: str,
                  list_name: str, mapping: list[str], observed_at: datetime | None) -> ImportRun:
    """Record a queued upload (committed) once its settings are known to be good.

    UploadError when the extension is not one perks reads, the mapping is bad (MappingError's
    sentence) or the brand already has an upload under way."""
    file_format = upload_format(filename)
    if file_format is None:
        raise UploadError(f"{Path(filename).name or 'The file'}: perks reads "
                          f"{', '.join(sorted(EXTENSIONS))} files")
    parse_mapping(mapping)  # raises MappingError, naming the bad line
    try:
        list_name = clean_list_name(list_name)
    except ListNameError as error:
        raise UploadError(str(error)) from None
    busy = active_upload(session, brand_id=brand_id)
    if busy is not None:
        raise UploadError(f"Your brand's upload of {busy.upload_name} is still running: wait "
                          "for it to finish")
    run = ImportRun(source_file=Path(filename).name[:255], upload_name=Path(filename).name[:255],
                    file_format=file_format, status="queued", brand_id=brand_id,
                    user_id=user_id, list_name=list_name, mapping=list(mapping),
                    observed_at=observed_at)
    session.add(run)
    session.commit()
    return run


def active_upload(session: Session, *, brand_id: int) -> ImportRun | None:
    """The brand's upload still queued or running (one at a time: they share the write lock)."""
    since = utcnow() - STALLED_AFTER
    runs = session.exec(select(ImportRun).where(
        ImportRun.brand_id == brand_id, ImportRun.status.in_(ACTIVE))).scalars().all()
    for run in runs:
        last = run.progress_at or run.started_at
        if last.tzinfo is None:
            last = last.replace(tzinfo=since.tzinfo)
        if last >= since:
            return run
    return None


def get_upload(session: Session, *, brand_id: int, run_id: int) -> ImportRun | None:
    """The brand's upload `run_id`; None for another brand's run or a command-line import."""
    return session.exec(select(ImportRun).where(
        ImportRun.id == run_id, ImportRun.brand_id == brand_id)).scalars().first()


def list_uploads(session: Session, *, brand_id: int, limit: int = 20) -> list[ImportRun]:
    return list(session.exec(select(ImportRun).where(ImportRun.brand_id == brand_id)
                             .order_by(ImportRun.id.desc()).limit(limit)).scalars().all())


def fail_upload(session: Session, run_id: int, message: str) -> None:
    session.rollback()
    session.execute(update(ImportRun).where(ImportRun.id == run_id).values(
        status="failed", error=message[:2000], finished_at=utcnow()))
    session.commit()


def run_upload(session: Session, *, run_id: int, folder: Path) -> ImportResult | None:
    """Import queued upload `run_id` into its brand's named list (created when new); None
    when it failed (the run says why, nothing stored).

    The saved file is deleted afterwards either way: its rows are in the store or refused,
    and the rejects file keeps only line numbers and reasons."""
    run = session.get(ImportRun, run_id)
    if run is None or run.status != "queued":
        raise UploadError(f"upload {run_id} is not waiting to be imported")
    path = upload_path(folder, run)
    shown = run.upload_name or path.name
    rejects = rejects_path(folder, run_id)
    try:
        account_list = get_or_create_list(session, brand_id=run.brand_id,
                                          name=run.list_name or "")
        return import_file(session, path, observed_at=run.observed_at, rejects_path=rejects,
                           mapping=tuple(parse_mapping(run.mapping or []).items()),
                           source_name=shown, run_id=run_id, account_list_id=account_list.id)
    except (ImportFormatError, ListNameError, OSError) as error:
        # Messages name the saved file by the name its sender knows, the rejects by the page.
        message = (str(error).replace(f": {rejects}", " (download them below)")
                   .replace(str(path), shown))
        fail_upload(session, run_id, message)
        return None
    except BaseException:
        fail_upload(session, run_id, "The import stopped on an error of perks' own (logged); "
                                     "nothing from the file was stored")
        raise
    finally:
        path.unlink(missing_ok=True)


def start_runner(run_id: int, *, database_url: str, instance_path: Path,
                 environment: str) -> subprocess.Popen:
    """Start `perks import-upload RUN_ID` as its own process, logging to the uploads folder;
    a thread reaps it when it ends, so no zombie is left behind the web worker."""
    folder = upload_folder(instance_path)
    env = {**os.environ, "PERKS_DATABASE_URL": database_url,
           "PERKS_INSTANCE_PATH": str(instance_path), "PERKS_ENV": environment}
    with (folder / f"{run_id}.log").open("ab") as log_file:
        os.chmod(log_file.name, 0o600)
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our command, an int
            [sys.executable, "-c", RUNNER_CODE, "import-upload", str(int(run_id))],
            env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True)  # a worker's restart does not take the import with it
    threading.Thread(target=process.wait, daemon=True).start()
    return process


def upload_status(run: ImportRun) -> dict[str, Any]:
    """What the progress page and its JSON show; `finished` once the run is done or failed."""
    return {"id": run.id, "file": run.upload_name, "list": run.list_name, "state": run.status,
            "finished": run.status not in ACTIVE, "rows_read": run.rows_read,
            "stored": run.imported + run.updated, "imported": run.imported,
            "updated": run.updated, "unchanged": run.unchanged, "rejected": run.rejected,
            "suppressed": run.suppressed, "error": run.error}
