"""Flask responses that more than one blueprint sends: the streamed CSV export (the campaign
page's download and the API's export.csv are the same bytes because they are this)."""

from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Response, stream_with_context
from sqlmodel import Session

from perks.campaigns import allocation, matching
from perks.campaigns.export import download
from perks.models import Campaign


def export_response(session: Session, campaign: Campaign, *, everything: bool,
                    bom: bool) -> Response:
    """The shortlist CSV as a streamed attachment."""
    allocation.ensure(session, campaign,
                      bot_threshold=matching.bot_threshold(campaign.bot_strictness))
    session.commit()
    name, chunks = download(session, campaign, today=datetime.now(UTC).date(),
                            everything=everything, bom=bom)
    return Response(stream_with_context(_closing(session, chunks)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _closing(session: Session, chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        # The request's teardown can run before the stream ends; the generator's reads would
        # then hold a pooled connection until garbage collection (the load run exhausted it).
        session.close()
