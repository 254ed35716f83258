"""Approved shortlist entries that no longer qualify: "needs attention", with the reason.

An approval is a human decision, so perks never drops one silently; but when the account has
since been flagged, has withdrawn consent, became protected or a minor, or its score left the
campaign's range (after a recalibration), the campaign page, `perks shortlist` and the export
must say so. One function, so all three agree.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from perks.campaigns.matching import MINOR_AGE, bot_threshold
from perks.models import Account, Campaign, ShortlistEntry


def needs_attention(session: Session, campaign: Campaign) -> dict[int, str]:
    """{account_id: reason} for the campaign's approved entries that no longer qualify."""
    threshold = bot_threshold(campaign.bot_strictness)
    adult_born_by = datetime.now(UTC).year - MINOR_AGE
    rows = session.execute(
        select(Account).join(ShortlistEntry, ShortlistEntry.account_id == Account.id)
        .where(ShortlistEntry.campaign_id == campaign.id, ShortlistEntry.status == "approved")
    ).scalars()
    found = {}
    for account in rows:
        reason = _reason(account, campaign, threshold, adult_born_by)
        if reason:
            found[account.id] = reason
    return found


def _reason(account: Account, campaign: Campaign, threshold: float,
            adult_born_by: int) -> str | None:
    if account.consent == "opted_out":
        return "consent withdrawn (opted out)"
    if campaign.opted_in_only and account.consent != "opted_in":
        return "no longer opted in"
    if account.protected:
        return "the account is now protected"
    if account.is_minor or (account.birth_year or 0) > adult_born_by or account.probable_minor:
        return "the account is (probably) a minor"
    if account.bot_flags:
        return f"flagged by a rule: {', '.join(account.bot_flags)}"
    if account.bot_probability is not None and account.bot_probability >= threshold:
        return (f"flagged as likely automated (bot probability {account.bot_probability:.2f}, "
                f"threshold {threshold:.2f})")
    percentile = campaign.score_mode == "percentile"
    value = account.influence_percentile if percentile else account.influence_score
    if value is None:
        return "not scored"
    if not campaign.score_min <= value <= campaign.score_max:
        what = "percentile" if percentile else "score"
        return (f"{what} {value:.1f} is outside the campaign's {campaign.score_min:g}–"
                f"{campaign.score_max:g}")
    return None
