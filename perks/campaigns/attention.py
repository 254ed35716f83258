"""Approved shortlist entries that no longer qualify: "needs attention", with the reason.

An approval is a human decision, so perks never drops one silently; but when the account has
since been flagged, has withdrawn consent, became protected or a minor, or its score left the
campaign's range (after a recalibration), the campaign page, `perks shortlist` and the export
must say so. The tests are the campaign rules themselves (perks.campaigns.rules, evaluated as
why-not evaluates them), so "needs attention" means exactly "the funnel would not keep it".
"""

from sqlalchemy import select
from sqlmodel import Session

from perks.campaigns.matching import context
from perks.campaigns.why_not import failures
from perks.models import Campaign, ShortlistEntry


def needs_attention(session: Session, campaign: Campaign) -> dict[int, str]:
    """{account_id: reason} for the campaign's approved entries that no longer qualify."""
    from perks.detection import policy

    approved = session.execute(
        select(ShortlistEntry.account_id).where(ShortlistEntry.campaign_id == campaign.id,
                                                ShortlistEntry.status == "approved")
    ).scalars().all()
    if not approved:
        return {}
    ctx = context(session, campaign, bot_threshold=policy.campaign_threshold(campaign))
    found = {}
    for account_id in approved:
        failed = failures(session, ctx, account_id)
        if failed:
            found[account_id] = "; ".join(f.reason for f in failed)
    return found
