"""`perks demo`: a synthetic pool, scored, with a demo brand, a user to log in with and a campaign.

Running it again upserts the same accounts (the generator is seeded) and reuses the brand,
user and campaign, so nothing is duplicated.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from perks.auth.users import create_user, find_user, get_or_create_brand
from perks.campaigns.allocation import refresh
from perks.campaigns.store import CampaignError, create_campaign, find_campaign
from perks.demo.pool import generate_accounts
from perks.detection import policy
from perks.importing import ImportResult, import_records
from perks.models import Campaign
from perks.scoring import ScoreSummary, load_detector, score_pool
from perks.topics import load_taxonomy

DEMO_BRAND = "Demo Coffee Roasters"
DEMO_EMAIL = "demo@perks.example"
DEMO_PASSWORD = "perks-demo-password"  # noqa: S105 - the demo login, printed on purpose
DEMO_SOURCE = "demo-pool"
DEMO_CAMPAIGN = {
    "name": "Morning brew ambassadors",
    "perk_description": "A bag of our single-origin beans and a pour-over kit",
    "quantity": 25, "perk_value": 45.0, "topics": ["coffee", "baking"], "topic_mode": "any",
    "min_topic_weight": 0.4, "score_mode": "percentile", "score_min": 40.0, "score_max": 100.0,
    "bot_strictness": "balanced", "one_per_person": True,
}


@dataclass
class DemoResult:
    pool: ImportResult
    scores: ScoreSummary
    campaign: str
    shortlist: dict[str, int]
    brand: str
    email: str
    password: str
    user_created: bool


def demo_observed_at() -> datetime:
    """Today at midnight UTC: stable within a day, so a rerun keeps the same observation."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def run_demo(*, session: Session, accounts: int, seed: int, hash_method: str = "scrypt",
             progress=None) -> DemoResult:
    """Load the seeded demo pool and make sure the demo brand and user exist."""
    taxonomy = [(topic.slug, topic.keywords) for topic in load_taxonomy()]
    observed_at = demo_observed_at()
    records = generate_accounts(accounts, seed=seed, topics=taxonomy, observed_at=observed_at)
    pool = import_records(session, enumerate(records, start=1), source_name=DEMO_SOURCE,
                          observed_at=observed_at, progress=progress, file_format="demo")
    detector, bot_status = load_detector()
    scores = score_pool(session, detector=detector)
    if detector is None:
        scores.bots = bot_status
    brand = get_or_create_brand(session=session, name=DEMO_BRAND)
    created = find_user(session=session, email=DEMO_EMAIL) is None
    if created:
        create_user(session=session, email=DEMO_EMAIL, password=DEMO_PASSWORD, brand=brand,
                    role="admin", hash_method=hash_method)
    campaign = _demo_campaign(session, brand.id)
    shortlist = refresh(session, campaign, bot_threshold=policy.campaign_threshold(campaign))
    session.commit()
    return DemoResult(pool=pool, scores=scores, campaign=campaign.name, shortlist=shortlist,
                      brand=DEMO_BRAND, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                      user_created=created)


def _demo_campaign(session: Session, brand_id: int) -> Campaign:
    try:
        return find_campaign(session=session, ref=DEMO_CAMPAIGN["name"], brand_id=brand_id)
    except CampaignError:
        return create_campaign(session=session, brand_id=brand_id, data=dict(DEMO_CAMPAIGN))
