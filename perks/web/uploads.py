"""Uploads: a manager sends a pool file, watches its import and downloads its rejects.

The request only checks the form, saves the file in the instance folder and starts the import
as its own process (perks.importing.uploads); the pages read the run's progress. Another
brand's run id is a 404.
"""

import csv
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from perks.accounts.lists import LIST_NAME_MAX
from perks.campaigns.export import safe_cell
from perks.db import get_session
from perks.importing import MappingError, parse_mapping
from perks.importing.readers import EXTENSIONS
from perks.importing.records import RowError, parse_time
from perks.importing.uploads import (
    UploadError,
    create_upload,
    fail_upload,
    get_upload,
    list_uploads,
    rejects_path,
    start_runner,
    upload_folder,
    upload_path,
    upload_status,
)
from perks.web.access import MANAGERS, roles_required

log = logging.getLogger(__name__)
blueprint = Blueprint("uploads", __name__, url_prefix="/uploads")
SUFFIXES = sorted(suffix.lstrip(".") for suffix in EXTENSIONS)


def mapping_lines(text: str | None) -> list[str]:
    """The mapping box's non-empty lines, each a `SOURCE=FIELD` as `perks import --map` takes."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class UploadForm(FlaskForm):
    file = FileField("Pool file", validators=[
        FileRequired("Choose a file to upload."),
        FileAllowed(SUFFIXES, "perks reads " + ", ".join(f".{s}" for s in SUFFIXES)
                    + " files (CSV, JSON or JSON Lines).")])
    list_name = StringField("List", validators=[DataRequired(), Length(max=LIST_NAME_MAX)],
                            description="The brand's list the accounts join, e.g. “spring "
                                        "creators”; a new name starts a new list.")
    mapping = TextAreaField("Column mapping", validators=[Optional(), Length(max=4000)],
                            description="Optional, one SOURCE=FIELD per line, e.g. "
                                        "listedcount=listed_count, for columns perks does not "
                                        "recognise (as perks import --map).")
    observed_at = StringField("Observed at", validators=[Optional(), Length(max=64)],
                              description="Optional: when the profiles were seen, for rows "
                                          "that do not say, e.g. 2026-11-30T12:00:00Z.")

    def validate_mapping(self, field):
        try:
            parse_mapping(mapping_lines(field.data))
        except MappingError as error:
            raise ValidationError(str(error).removeprefix("--map ")) from None

    def validate_observed_at(self, field):
        try:
            parse_time(field.data, "observed at")
        except RowError as error:
            raise ValidationError(error.reason) from None


@blueprint.route("/", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def index():
    session = get_session()
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            run = create_upload(
                session, brand_id=current_user.brand_id, user_id=current_user.id,
                filename=upload.filename or "", list_name=form.list_name.data.strip(),
                mapping=mapping_lines(form.mapping.data),
                observed_at=parse_time(form.observed_at.data, "observed at"))
        except UploadError as error:
            session.rollback()
            form.file.errors = [*form.file.errors, f"{error}."]
        else:
            _save_and_start(session, run, upload)
            return redirect(url_for("uploads.show", run_id=run.id))
    status = 400 if form.errors else 200
    uploads = list_uploads(session, brand_id=current_user.brand_id)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return render_template("uploads/index.html", form=form, uploads=uploads,
                           limit_mb=limit / 2**20 if limit else None), status


def _save_and_start(session, run, upload) -> None:
    instance = Path(current_app.instance_path)
    path = upload_path(upload_folder(instance), run)
    try:
        upload.save(path)
        os.chmod(path, 0o600)
        start_runner(run.id, database_url=current_app.config["DATABASE_URL"],
                     instance_path=instance, environment=current_app.config["PERKS_ENV"])
    except OSError:
        log.exception("upload %s could not be saved or started", run.id)
        path.unlink(missing_ok=True)
        fail_upload(session, run.id, "The file could not be saved on the server, so nothing "
                                     "was imported; try again, or ask your operator")
    finally:
        upload.close()


@blueprint.route("/<int:run_id>")
@roles_required(*MANAGERS)
def show(run_id: int):
    run = _own(run_id)
    rejects = rejects_path(upload_folder(Path(current_app.instance_path)), run.id)
    return render_template("uploads/show.html", run=run, status=upload_status(run),
                           has_rejects=rejects.is_file())


@blueprint.route("/<int:run_id>/status")
@roles_required(*MANAGERS)
def status(run_id: int):
    return jsonify(upload_status(_own(run_id)))


@blueprint.route("/<int:run_id>/rejects.csv")
@roles_required(*MANAGERS)
def rejects(run_id: int):
    run = _own(run_id)
    path = rejects_path(upload_folder(Path(current_app.instance_path)), run.id)
    if not path.is_file():
        abort(404, "This upload has no rejected rows to download.")
    name = f"{Path(run.upload_name or 'upload').stem}-rejects.csv"
    return Response(stream_with_context(_escaped_csv(path)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_ascii(name)}"'})


def _escaped_csv(path: Path) -> Iterator[str]:
    # Reasons quote the sender's values: escaped like the export, so no cell runs as a formula.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            writer.writerow([safe_cell(cell) for cell in row])
            if buffer.tell() > 1 << 16:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)


def _own(run_id: int):
    run = get_upload(get_session(), brand_id=current_user.brand_id, run_id=run_id)
    if run is None:
        abort(404)
    return run
