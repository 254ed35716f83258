"""Flask responses that more than one blueprint sends: the streamed CSV export (the campaign
page's download and the API's export.csv are the same bytes because they are this)."""

from collections.abc import Iterator

from flask import Response, stream_with_context
from sqlmodel import Session

from perks.campaigns import service
from perks.models import Campaign


def export_response(session: Session, campaign: Campaign, *, everything: bool,
                    bom: bool) -> Response:
    """The CSV download of the stored shortlist, streamed (service.export's chunks)."""
    result = service.export(session, campaign, everything=everything, bom=bom)
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
