"""Why not: the first funnel stage that excluded an account, and why, in a marketer's words.

Uses the same conditions as perks.campaigns.matching, so the answer always agrees with the
funnel and the shortlist.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from perks.accounts import find_account
from perks.campaigns.matching import (
    MINOR_AGE,
    STAGE_LABELS,
    Conditions,
    account,
    account_topic,
    conditions,
    ranked_query,
    reason_texts,
    shortlist,
)
from perks.models import Account, Campaign
from perks.privacy.minors import minor_evidence


@dataclass
class WhyNot:
    handle: str
    stage: str | None  # None: the account is on the shortlist (or the handle is unknown)
    reason: str

    @property
    def label(self) -> str:
        return STAGE_LABELS.get(self.stage or "", "")


def why_not(session: Session, campaign: Campaign, handle: str, *, bot_threshold: float,
            today: date | None = None) -> WhyNot:
    """The first stage that excluded `handle` and why, e.g. "percentile 41, campaign needs ≥ 60"."""
    found = find_account(session, handle)
    shown = "@" + handle.lstrip("@")
    if found is None:
        return WhyNot(shown, None, f"no account {shown} in the pool")
    cond = conditions(session, campaign, bot_threshold=bot_threshold, today=today)
    for stage, check in (("topic", _why_topic), ("score", _why_score),
                         ("audience", _why_audience), ("privacy", _why_privacy),
                         ("flagged", _why_flagged)):
        reason = check(session, cond, found)
        if reason:
            return WhyNot(shown, stage, reason)
    ranked = ranked_query(cond)
    row = session.execute(select(ranked.c.rank).where(ranked.c.account_id == found.id)).first()
    if row is None and found.person_id is not None:
        better = session.execute(
            select(account.c.screen_name).select_from(ranked.join(
                account, account.c.id == ranked.c.account_id))
            .where(account.c.person_id == found.person_id)).scalar()
        return WhyNot(shown, "person", f"same person as @{better}, who ranks higher"
                      if better else "another account of the same person ranks higher")
    if row is None:
        return WhyNot(shown, "person", "another account of the same person ranks higher")
    rank = int(row[0])
    if rank > campaign.quantity:
        return WhyNot(shown, "capacity", f"rank {rank}, campaign offers {campaign.quantity} "
                      f"perk{'s' if campaign.quantity != 1 else ''}: wait-listed")
    return WhyNot(shown, None, f"on the shortlist at rank {rank}")


def _fmt(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:.0f}"


def _why_topic(session: Session, cond: Conditions, found: Account) -> str | None:
    c = cond.campaign
    if not c.topics:
        return None
    weights = dict(session.execute(
        select(account_topic.c.topic_id, account_topic.c.weight)
        .where(account_topic.c.account_id == found.id,
               account_topic.c.topic_id.in_(cond.topic_ids))).all())
    passing = [w for w in weights.values() if w >= c.min_topic_weight]
    wanted = ", ".join(c.topics)
    if c.topic_mode == "any" and not passing:
        if weights:
            return (f"topic weight {_fmt(max(weights.values()))}, campaign needs ≥ "
                    f"{_fmt(c.min_topic_weight)} in {wanted}")
        return f"none of the campaign's topics ({wanted})"
    if c.topic_mode == "all" and len(passing) < len(c.topics):
        return (f"carries {len(passing)} of the {len(c.topics)} topics the campaign needs all of "
                f"({wanted}) at weight ≥ {_fmt(c.min_topic_weight)}")
    return None


def _why_score(_session: Session, cond: Conditions, found: Account) -> str | None:
    c = cond.campaign
    what = "percentile" if c.score_mode == "percentile" else "score"
    value = found.influence_percentile if c.score_mode == "percentile" else found.influence_score
    if value is None:
        return f"no {what} yet (not scored)"
    if value < c.score_min:
        return f"{what} {_fmt(value)}, campaign needs ≥ {_fmt(c.score_min)}"
    if value > c.score_max:
        return f"{what} {_fmt(value)}, campaign needs ≤ {_fmt(c.score_max)}"
    return None


def _why_audience(session: Session, cond: Conditions, found: Account) -> str | None:
    c = cond.campaign
    if c.followers_min is not None and found.followers_count < c.followers_min:
        return f"{found.followers_count:,} followers, campaign needs ≥ {c.followers_min:,}"
    if c.followers_max is not None and found.followers_count > c.followers_max:
        return f"{found.followers_count:,} followers, campaign needs ≤ {c.followers_max:,}"
    if c.languages:
        lang = (found.lang or "").lower()
        if not any(lang == x.lower() or lang.startswith(x.lower() + "-") for x in c.languages):
            return (f"language {found.lang or 'unknown'}, campaign needs "
                    f"{', '.join(c.languages)}")
    if c.location_contains and c.location_contains.lower() not in (found.location or "").lower():
        return (f"location {found.location or 'unknown'!r}, campaign needs one containing "
                f"{c.location_contains!r}")
    if c.exclude_recent_days and session.execute(
            cond.recent_perks().where(shortlist.c.account_id == found.id)).first():
        return f"got a perk from this brand in the last {c.exclude_recent_days} days"
    return None


def _why_privacy(_session: Session, cond: Conditions, found: Account) -> str | None:
    if found.protected:
        return "protected account: perks never shortlists locked-down profiles"
    if found.is_minor or (found.birth_year is not None
                          and found.birth_year > cond.today.year - MINOR_AGE):
        return "a minor: perks never shortlists minors"
    if found.probable_minor:
        phrase = minor_evidence(found.description, observed_at=found.observed_at)
        return ("probably a minor" + (f" (bio says “{phrase}”)" if phrase else "")
                + ": perks never shortlists minors")
    if found.consent == "opted_out":
        return "opted out: perks never shortlists people who said no"
    if cond.campaign.opted_in_only and found.consent != "opted_in":
        return f"consent {found.consent.replace('_', ' ')}: this campaign is opted-in only"
    return None


def _why_flagged(session: Session, cond: Conditions, found: Account) -> str | None:
    p = found.bot_probability
    by_model = p is not None and p >= cond.threshold
    if not by_model and not found.bot_flags:
        return None
    if session.execute(select(account.c.id).where(account.c.id == found.id,
                                                  cond.cleared())).first():
        return None
    reasons = reason_texts(found.bot_reasons or [])
    what = (f"bot probability {p:.2f}, campaign allows < {cond.threshold:.2f}" if by_model
            else f"rule flag {', '.join(found.bot_flags or [])}")
    return what + (f" ({'; '.join(reasons[:3])})" if reasons else "")
