"""Flask responses that more than one blueprint sends: the streamed CSV export (the campaign
page's download and the API's export.csv are the same bytes because they are this)."""

from collections.abc import Iterator, Mapping

from flask import Response, abort, stream_with_context
from sqlmodel import Session

from perks.campaigns import service
from perks.campaigns.export import ExportError, options
from perks.models import Campaign


def export_response(session: Session, campaign: Campaign, args: Mapping[str, str]) -> Response:
    """The CSV download of the kind the query asks for (`kind=`, `excel=1`), streamed
    (service.export's chunks); an unknown kind is a 400."""
    try:
        chosen = options(args)
    except ExportError as error:
        abort(400, str(error))
    result = service.export(session, campaign, **chosen)
    return Response(stream_with_context(_encoded(session, result.chunks)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})


def _encoded(session: Session, chunks: Iterator[str]) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            yield chunk.encode("utf-8")
    finally:
        # The request's teardown can run before the stream ends; the generator's reads would
        # then hold a pooled connection until garbage collection (the load run exhausted it).
        session.close()
