"""`perks demo`: a synthetic pool, a demo brand and a user to log in with.

Running it again upserts the same accounts (the generator is seeded) and reuses the brand and
user, so nothing is duplicated.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from perks.demo_pool import generate_accounts
from perks.importing import ImportResult, import_records
from perks.topics import load_taxonomy
from perks.users import create_user, find_user, get_or_create_brand

DEMO_BRAND = "Demo Coffee Roasters"
DEMO_EMAIL = "demo@perks.example"
DEMO_PASSWORD = "perks-demo-password"  # noqa: S105 - the demo login, printed on purpose
DEMO_SOURCE = "demo-pool"


@dataclass
class DemoResult:
    pool: ImportResult
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
    brand = get_or_create_brand(session=session, name=DEMO_BRAND)
    created = find_user(session=session, email=DEMO_EMAIL) is None
    if created:
        create_user(session=session, email=DEMO_EMAIL, password=DEMO_PASSWORD, brand=brand,
                    role="admin", hash_method=hash_method)
    session.commit()
    return DemoResult(pool=pool, brand=DEMO_BRAND, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                      user_created=created)
