"""Why not: every funnel stage that excludes an account, and why, in a marketer's words.

The stage tests are the rules of perks.campaigns.rules, evaluated for the one account in one
SQL query, so the answer always agrees with the funnel and the shortlist; only the wording
comes from the account's values.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, select
from sqlmodel import Session

from perks.accounts import find_account
from perks.campaigns import rules
from perks.campaigns.matching import context, ranked_query
from perks.campaigns.rules import ACCOUNTS, STAGE_LABELS, account, account_topic
from perks.models import Campaign


@dataclass
class Failure:
    stage: str
    rule: str
    reason: str

    @property
    def label(self) -> str:
        return STAGE_LABELS.get(self.stage, "")


@dataclass
class WhyNot:
    handle: str
    stage: str | None  # the first stage that excludes; None: on the shortlist or unknown
    reason: str  # every failure's reason, joined; or where it stands on the shortlist
    failures: list[Failure] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STAGE_LABELS.get(self.stage or "", "")

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys(f.stage for f in self.failures))

    def as_dict(self) -> dict:
        return {"handle": self.handle, "stage": self.stage, "reason": self.reason,
                "failures": [{"stage": f.stage, "rule": f.rule, "label": f.label,
                              "reason": f.reason} for f in self.failures]}


def failures(session: Session, ctx: rules.Context, account_id: int) -> list[Failure]:
    """Every rule of stages pool…flagged that excludes the account, in funnel order (the
    account is one the campaign's brand may see)."""
    campaign = ctx.campaign
    found: list[Failure] = []
    outside = session.execute(select(account.c.shared, ~rules.in_audience(ACCOUNTS, ctx))
                              .where(account.c.id == account_id)).one()
    if outside[1]:
        found.append(Failure("pool", "audience",
                             rules.audience_explain({"shared": outside[0]}, ctx)))
    weights = dict(session.execute(
        select(account_topic.c.topic_id, account_topic.c.weight)
        .where(account_topic.c.account_id == account_id,
               account_topic.c.topic_id.in_(ctx.topic_ids))).all())
    topic_reason = rules.topic_explain(weights, ctx)
    if topic_reason:
        found.append(Failure("topic", "topic", topic_reason))
    active = rules.active_rules(campaign)
    verdicts = [case((rule.excludes(ACCOUNTS, ctx), True), else_=False).label(f"_out_{rule.key}")
                for rule in active]
    seen = rules.bot_probability(ACCOUNTS, ctx).label("brand_bot_probability")
    row = session.execute(select(account, seen, *verdicts).where(account.c.id == account_id)
                          ).mappings().one()
    for rule in active:
        if row[f"_out_{rule.key}"]:
            found.append(Failure(rule.stage, rule.key, rule.explain(row, ctx)))
    return found


def why_not(session: Session, campaign: Campaign, handle: str, *, bot_threshold: float,
            today: date | None = None) -> WhyNot:
    """Every stage that excludes `handle` and why, e.g. "percentile 41, campaign needs 60–95";
    for an account that passes them all, where one-per-person and capacity leave it."""
    found = find_account(session, handle, brand_id=campaign.brand_id)
    shown = "@" + handle.lstrip("@")
    if found is None:
        return WhyNot(shown, None, f"no account {shown} in the pool")
    ctx = context(session, campaign, bot_threshold=bot_threshold, today=today)
    failed = failures(session, ctx, found.id)
    if failed:
        return WhyNot(shown, failed[0].stage, "; ".join(f.reason for f in failed), failed)
    ranked = ranked_query(ctx)
    row = session.execute(select(ranked.c.rank).where(ranked.c.account_id == found.id)).first()
    if row is None:
        better = None
        if found.person_id is not None:
            better = session.execute(
                select(account.c.screen_name).select_from(ranked.join(
                    account, account.c.id == ranked.c.account_id))
                .where(account.c.person_id == found.person_id)).scalar()
        reason = (f"same person as @{better}, who ranks higher" if better
                  else "another account of the same person ranks higher")
        return WhyNot(shown, "person", reason, [Failure("person", "person", reason)])
    rank = int(row[0])
    if rank > campaign.quantity:
        reason = (f"rank {rank}, campaign offers {campaign.quantity} "
                  f"perk{'s' if campaign.quantity != 1 else ''}: wait-listed")
        return WhyNot(shown, "capacity", reason, [Failure("capacity", "capacity", reason)])
    return WhyNot(shown, None, f"on the shortlist at rank {rank}")
