"""`perks import PATH…`: read account files into the store."""

import os
import sys
from pathlib import Path
from typing import Any

import click

from perks.cli.support import (
    echo_json,
    find_brand,
    json_option,
    prepared_session,
    progress,
    with_appcontext,
)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--observed-at", help="When the profiles were seen, for rows that do not say.")
@click.option("--map", "mappings", multiple=True, metavar="SOURCE=FIELD",
              help="Read column or key SOURCE as perks field FIELD (repeatable).")
@click.option("--rejects", type=click.Path(path_type=Path),
              help="Where rejected rows go: a file (one input) or a folder. Default: beside "
                   "the input when that folder is writable, else the instance folder.")
@click.option("--brand", help="With --list: the brand whose list the accounts go into.")
@click.option("--list", "list_name", metavar="NAME",
              help="Put the accounts into this named list of --brand (created if new): only "
                   "that brand sees the ones not already in the shared pool. Default: the "
                   "shared pool every brand sees.")
@json_option
@with_appcontext
def import_command(paths: tuple[Path, ...], observed_at: str | None, mappings: tuple[str, ...],
                   rejects: Path | None, brand: str | None, list_name: str | None,
                   as_json: bool) -> None:
    """Import account files (CSV, JSON or JSON Lines) or the supported files in folders.

    Exit status: 0 when every file was imported (some rows may be rejected), 1 when a file
    failed as a whole (nothing from it stored), 2 for a usage error.
    """
    from flask import current_app

    from perks.accounts.lists import ListNameError, get_or_create_list
    from perks.campaigns import service
    from perks.importing import (
        ImportFormatError,
        MappingError,
        expand_paths,
        import_file,
        parse_mapping,
    )
    from perks.importing.records import RowError, parse_time

    try:
        observed = parse_time(observed_at, "--observed-at") if observed_at else None
        mapping = tuple(parse_mapping(mappings).items())
    except RowError as error:
        raise click.BadParameter(error.reason, param_hint="--observed-at") from None
    except MappingError as error:
        raise click.BadParameter(str(error), param_hint="--map") from None
    if (brand is None) != (list_name is None):
        raise click.BadParameter("--brand and --list go together: name both, or neither for "
                                 "the shared pool", param_hint="--list")
    files = expand_paths(paths)
    if rejects is not None and len(files) > 1 and not rejects.is_dir():
        raise click.BadParameter("with several files, --rejects must be a folder",
                                 param_hint="--rejects")
    instance = Path(current_app.instance_path)
    results, failures = [], []
    with prepared_session() as session:
        list_id = None
        if brand is not None and list_name is not None:
            try:
                list_id = get_or_create_list(session, brand_id=find_brand(session, brand).id,
                                             name=list_name).id
            except ListNameError as error:
                raise click.BadParameter(str(error), param_hint="--list") from None
        for path in files:
            target = rejects / f"{path.name}.rejects.csv" if rejects and rejects.is_dir() \
                else rejects
            try:
                with progress(path.name) as update:
                    result = import_file(session, path, observed_at=observed, mapping=mapping,
                                         rejects_path=target, fallback_dir=instance,
                                         progress=update, account_list_id=list_id)
            except (ImportFormatError, OSError) as error:
                failures.append({"source": str(path), "error": str(error)})
                click.echo(f"error: {error} (nothing from this file was stored)", err=True)
                continue
            results.append(result)
            for warning in result.warnings:
                click.echo(f"warning: {warning}", err=True)
        if results:
            # Updated profiles (consent, protection, person links) change who qualifies.
            service.refresh_campaigns(session)
            session.commit()
    if not files:
        failures.append({"source": ", ".join(map(str, paths)), "error": "no files to import"})
        click.echo("error: no CSV, JSON or JSON Lines files found", err=True)
    if as_json:
        echo_json({"files": [_result_dict(r) for r in results], "failed": failures})
    else:
        for r in results:
            click.echo(f"{r.source}: {r.imported:,} imported, {r.updated:,} updated, "
                       f"{r.unchanged:,} unchanged, {r.rejected:,} rejected, "
                       f"{r.suppressed:,} suppressed "
                       f"({r.seconds:.2f} s, {r.rows_per_second:,.0f} rows/s)")
            if r.rejects_path:
                click.echo(f"  rejected rows, with line and reason: {r.rejects_path}")
    if failures:
        sys.exit(1)


def _result_dict(result: Any) -> dict[str, Any]:
    return {"source": result.source, "format": result.file_format, "imported": result.imported,
            "updated": result.updated, "unchanged": result.unchanged,
            "rejected": result.rejected, "suppressed": result.suppressed,
            "rejects_file": result.rejects_path,
            "seconds": round(result.seconds, 3), "warnings": result.warnings}


@click.command("import-upload", hidden=True)
@click.argument("run_id", type=int)
@with_appcontext
def import_upload_command(run_id: int) -> None:
    """Import a file uploaded through the web app (the upload page starts this itself).

    Exit status: 0 when imported, 1 when the file failed as a whole (the run says why)."""
    from flask import current_app

    from perks.campaigns import service
    from perks.importing.uploads import run_upload, upload_folder

    os.nice(10)  # a background import yields the CPU to the web workers serving people
    folder = upload_folder(Path(current_app.instance_path))
    with prepared_session() as session:
        result = run_upload(session, run_id=run_id, folder=folder)
        if result is None:
            sys.exit(1)
        # As after `perks import`: updated profiles change who qualifies.
        service.refresh_campaigns(session)
        session.commit()
    click.echo(f"upload {run_id}: {result.imported:,} imported, {result.updated:,} updated, "
               f"{result.unchanged:,} unchanged, {result.rejected:,} rejected, "
               f"{result.suppressed:,} suppressed ({result.seconds:.2f} s)")


COMMANDS = [import_command, import_upload_command]
