"""The pool audit of a campaign: perks draws a uniform random sample of its matched pool (topic,
score, audience and privacy stages; flagged or not), the brand's reviewers decide those
accounts like any other (the decisions are ordinary review decisions, so they also feed the
brand's adaptation), and perks.detection.audit estimates the pool's bot share and what each
strictness does on this pool.

Estimates use each account's own (bundled or trained) bot probability, not the brand's adapted
one: the adaptation is fitted on these same decisions, and figures on its own training labels
would flatter it. No Flask here.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from perks.campaigns import rules
from perks.campaigns.matching import context, matched_pool
from perks.campaigns.rules import ACCOUNTS, account
from perks.detection import audit, policy
from perks.models import AuditSample, Campaign, ReviewDecision, utcnow

sample_table = AuditSample.__table__
decision_table = ReviewDecision.__table__


def _matched_ids(session: Session, campaign: Campaign):
    ctx = context(session, campaign, bot_threshold=policy.campaign_threshold(campaign))
    _matched, source, passed = matched_pool(ctx, ("score", "audience", "privacy"))
    return select(account.c.id).select_from(source).where(passed)


def draw_sample(*, session: Session, campaign: Campaign, size: int = audit.DEFAULT_SAMPLE,
                seed: int | None = None) -> int:
    """Replace the campaign's audit sample by a new uniform one; returns its size. The caller
    commits. Decisions already taken on sampled accounts count at once."""
    ids = np.array(session.execute(_matched_ids(session, campaign)
                                   .order_by(account.c.id)).scalars().all(), dtype=np.int64)
    session.execute(delete(sample_table).where(sample_table.c.campaign_id == campaign.id))
    if not len(ids):
        return 0
    rng = np.random.default_rng(seed)  # None: fresh entropy, a different sample each time
    chosen = rng.choice(ids, size=min(size, len(ids)), replace=False)
    now = utcnow()
    session.execute(insert(sample_table), [
        {"campaign_id": campaign.id, "account_id": int(a), "drawn_at": now,
         "pool_size": len(ids)} for a in sorted(chosen.tolist())])
    return len(chosen)


def sample_accounts(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """The sampled accounts with the brand's decision (None: not decided) and its version."""
    decided = decision_table.alias("decided")
    rows = session.execute(
        select(account.c.id, account.c.screen_name, account.c.name,
               account.c.bot_probability, rules.has_rule_flags(ACCOUNTS).label("rule_flagged"),
               account.c.bot_reasons, decided.c.decision, decided.c.version,
               sample_table.c.pool_size, sample_table.c.drawn_at)
        .select_from(sample_table.join(account, account.c.id == sample_table.c.account_id)
                     .outerjoin(decided, (decided.c.account_id == account.c.id)
                                & (decided.c.brand_id == campaign.brand_id)))
        .where(sample_table.c.campaign_id == campaign.id)
        .order_by(account.c.screen_name)).mappings()
    return [dict(r) for r in rows]


@dataclass
class CampaignAudit:
    campaign: Campaign
    sample: list[dict[str, Any]]
    pool_size: int
    estimate: audit.PoolEstimate | None
    tolerated: float | None
    suggested_threshold: float | None

    @property
    def decided(self) -> int:
        return sum(1 for s in self.sample if s["decision"] in ("automated", "genuine"))


def _item(row: dict[str, Any]) -> audit.SampleItem:
    label = {"automated": True, "genuine": False}.get(row["decision"])
    return audit.SampleItem(row["bot_probability"], bool(row["rule_flagged"]), label)


def campaign_audit(*, session: Session, campaign: Campaign,
                   tolerated: float | None = None) -> CampaignAudit:
    """The campaign's sample, its estimate (None before MIN_DECIDED decisions) and, given a
    tolerated share of genuine accounts flagged, the threshold that keeps to it."""
    sample = sample_accounts(session, campaign)
    items = [_item(r) for r in sample]
    pool = int(sample[0]["pool_size"]) if sample else int(session.execute(
        select(func.count()).select_from(_matched_ids(session, campaign).subquery()))
        .scalar_one())
    thresholds = [(name, policy.threshold_for(name, brand_id=campaign.brand_id))
                  for name in policy.STRICTNESS]
    current = policy.campaign_threshold(campaign)
    if all(abs(current - t) > 1e-9 for _, t in thresholds):
        thresholds.append((f"this campaign ({campaign.bot_strictness})", current))
    estimate = audit.estimate(items, pool_size=pool, thresholds=thresholds) if items else None
    suggested = (audit.threshold_for_tolerance(items, tolerated)
                 if tolerated is not None and estimate is not None else None)
    return CampaignAudit(campaign, sample, pool, estimate, tolerated, suggested)
