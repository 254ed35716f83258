"""Database tables.

Account mirrors the Twitter/X v1.1 user object (DESIGN.md) plus what perks adds: where and when
it was observed, the person it belongs to, consent, activity aggregates and the latest scores.
Later stages (campaigns, review) hang their own tables off Account by its surrogate key.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, func, true
from sqlmodel import Field, SQLModel

from perks.auth import BRAND_ROLES, ROLES  # noqa: F401  (re-exported)
from perks.review import REVIEW_DECISIONS  # noqa: F401  (re-exported)


def utcnow() -> datetime:
    """Aware UTC now: timestamps are stored and read back as UTC (SQLModel's UTCDateTime)."""
    return datetime.now(UTC)


CONSENT_STATES = ("opted_in", "unknown", "opted_out")

# Activity aggregates an import may carry when a timeline was available; None = not measured.
ACTIVITY_FIELDS = (
    "posts_per_day",
    "retweet_share",
    "reply_share",
    "url_share",
    "automation_share",
    "distinct_sources",
    "interval_regularity",
    "duplicate_text_share",
)


class Brand(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=400)
    role: str = Field(default="manager", max_length=20)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    is_active: bool = True
    # Bumped on logout, password change and deactivation: older session cookies stop loading.
    session_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Person(SQLModel, table=True):
    """One human behind several accounts; perks gives one perk per person."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # the person_id an import gave
    created_at: datetime = Field(default_factory=utcnow)


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    source_file: str = Field(max_length=1000)
    file_format: str = Field(default="", max_length=10)
    status: str = Field(default="running", max_length=20)  # queued / running / done / failed
    error: str | None = None
    imported: int = 0
    updated: int = 0
    unchanged: int = 0  # an older observation of an account already stored
    rejected: int = 0
    suppressed: int = 0  # rows on the suppression list: counted, never stored (perks.privacy)
    account_list_id: int | None = None  # the brand's list it filled; None: the shared pool
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    seconds: float | None = None
    # Progress, written with each committed batch (a web upload's page reads it).
    rows_read: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    progress_at: datetime | None = None
    # A web upload's (perks.importing.uploads): who sent it and what they asked for. The file
    # itself lives in the instance folder under the run's id, never under a name they chose.
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    upload_name: str | None = Field(default=None, max_length=255)  # shown, never a path
    list_name: str | None = Field(default=None, max_length=200)
    mapping: list[str] | None = Field(default=None, sa_column=Column(JSON))
    observed_at: datetime | None = None


class ImportUndo(SQLModel, table=True):
    """What a running import changed, so a file that fails half-way can be taken back out:
    the earlier values of an account it updated (`before`), or a person it created. Accounts
    it inserted carry its import_run_id. Deleted when the import finishes."""

    __tablename__ = "import_undo"

    id: int | None = Field(default=None, primary_key=True)
    import_run_id: int = Field(foreign_key="import_run.id", index=True, ondelete="CASCADE")
    account_id: int | None = None
    person_id: int | None = None
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ScoreReference(SQLModel, table=True):
    """The score distribution percentiles are read against, fixed per score version: set by
    the first `perks score` of a version and moved only by `perks score --recalibrate`."""

    __tablename__ = "score_reference"

    id: int | None = Field(default=None, primary_key=True)
    score_version: str = Field(max_length=40, index=True)
    accounts: int  # how many scores the reference was taken from
    quantiles: list[float] = Field(sa_column=Column(JSON, nullable=False))  # sorted
    created_at: datetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "platform_id", name="uq_account_platform_id"),
        Index("ix_account_handle", func.lower(Column("screen_name"))),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(default="twitter", max_length=30)
    platform_id: str = Field(max_length=64)  # the user object's `id`, kept as text
    screen_name: str = Field(max_length=100)
    name: str | None = Field(default=None, max_length=200)
    description: str | None = None
    location: str | None = Field(default=None, max_length=300)
    lang: str | None = Field(default=None, max_length=40)
    url: str | None = Field(default=None, max_length=1000)
    created_at: datetime | None = None  # when the account was opened
    followers_count: int = 0
    friends_count: int = 0
    statuses_count: int = 0
    favourites_count: int = 0
    listed_count: int = 0
    verified: bool = False
    protected: bool = False
    default_profile: bool = False
    default_profile_image: bool = False
    geo_enabled: bool = False
    profile_use_background_image: bool | None = None
    # Counts the source did not carry (stored as 0), e.g. ["favourites_count"] from API v2.
    unknown_counts: list[str] | None = Field(default=None, sa_column=Column(JSON))

    # Provenance: ages and growth rates are measured from observed_at, never from today.
    observed_at: datetime
    source_file: str | None = Field(default=None, max_length=1000)
    import_run_id: int | None = Field(default=None, foreign_key="import_run.id")
    post_text: str | None = None  # text of posts that came with the profile, for topics

    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    birth_year: int | None = None
    is_minor: bool | None = None
    # The bio reads like a minor's ("14 y/o", "8th grade"): perks.privacy.minors, set at import.
    probable_minor: bool = False
    consent: str = Field(default="unknown", max_length=20)
    # In the shared pool every brand sees; False: only in the named lists that hold it
    # (perks.accounts.lists.visible_to_brand).
    shared: bool = Field(default=True, index=True, sa_column_kwargs={"server_default": true()})
    consent_updated_at: datetime | None = None
    external_score: float | None = None

    posts_per_day: float | None = None
    retweet_share: float | None = None
    reply_share: float | None = None
    url_share: float | None = None
    automation_share: float | None = None
    distinct_sources: int | None = None
    interval_regularity: float | None = None
    duplicate_text_share: float | None = None

    # Written by `perks score`; None until the account has been scored.
    influence_score: float | None = None
    influence_percentile: float | None = None
    score_components: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    score_version: str | None = Field(default=None, max_length=40)
    score_confidence: str | None = Field(default=None, max_length=40)
    bot_probability: float | None = None
    bot_reasons: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    bot_model_version: str | None = Field(default=None, max_length=40)
    bot_flags: list[str] | None = Field(default=None, sa_column=Column(JSON))  # rule flag ids
    scored_at: datetime | None = None

    first_imported_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AccountList(SQLModel, table=True):
    """A brand's named list of accounts (an upload goes into one); perks.accounts.lists."""

    __tablename__ = "account_list"
    __table_args__ = (UniqueConstraint("brand_id", "name", name="uq_account_list_brand_name"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class AccountListMember(SQLModel, table=True):
    __tablename__ = "account_list_member"

    list_id: int = Field(foreign_key="account_list.id", primary_key=True, ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", primary_key=True, index=True,
                            ondelete="CASCADE")
    # The import that added it, so a file that fails half-way takes its memberships back out.
    import_run_id: int | None = Field(default=None, foreign_key="import_run.id")


class Topic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    label: str = Field(max_length=200)


class TaxonomyState(SQLModel, table=True):
    """Which taxonomy the stored inferred topics came from (one row): `perks score` writes it,
    `perks topics` compares it with the taxonomy in force to say whether topics are stale."""

    __tablename__ = "taxonomy_state"

    id: int = Field(default=1, primary_key=True)
    fingerprint: str = Field(max_length=64)
    topics: int
    keywords: int
    inferred_at: datetime = Field(default_factory=utcnow)


class AccountTopic(SQLModel, table=True):
    __tablename__ = "account_topic"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, index=True)
    weight: float
    source: str = Field(default="inferred", max_length=20)  # imported / inferred
    evidence: list[str] | None = Field(default=None, sa_column=Column(JSON))


class TopicRank(SQLModel, table=True):
    """A scored account's topic row with the account columns the campaign rules read, copied
    under the same names (perks.campaigns.ranking keeps it in step), so a campaign's top
    accounts for a topic are read straight off one index instead of joining a million
    accounts. The copied columns are perks.campaigns.rules.RANKING_COLUMNS."""

    __tablename__ = "topic_rank"
    # Its two rank indexes, which also carry the rule columns, are dialect-specific DDL:
    # perks.accounts.rank_rows.index_statements (migration 0018 creates them).

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", primary_key=True)
    weight: float
    influence_score: float
    influence_percentile: float | None = None
    person_id: int | None = None
    followers_count: int = 0
    lang: str | None = Field(default=None, max_length=40)
    location: str | None = Field(default=None, max_length=300)
    protected: bool = False
    is_minor: bool | None = None
    birth_year: int | None = None
    probable_minor: bool = False
    consent: str = Field(default="unknown", max_length=20)
    bot_probability: float | None = None
    bot_flags: list[str] | None = Field(default=None, sa_column=Column(JSON))
    shared: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class ScoreSnapshot(SQLModel, table=True):
    """An account's score as it was before `perks score` moved to a new score version."""

    __tablename__ = "score_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    score_version: str = Field(max_length=40)
    influence_score: float | None = None
    influence_percentile: float | None = None
    components: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    scored_at: datetime | None = None  # when the kept score was computed
    taken_at: datetime = Field(default_factory=utcnow)  # when it was superseded


CAMPAIGN_STATUSES = ("offered", "approved", "dropped", "waitlist")


class Campaign(SQLModel, table=True):
    """A brand's perk offer and who may get it; matching reads these fields (perks.campaigns)."""

    __table_args__ = (UniqueConstraint("brand_id", "name", name="uq_campaign_brand_name"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    name: str = Field(max_length=200)
    perk_description: str = Field(default="", max_length=2000)
    quantity: int = 1
    perk_value: float | None = None
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topic_mode: str = Field(default="any", max_length=10)  # any / all
    min_topic_weight: float = 0.0
    score_mode: str = Field(default="percentile", max_length=20)  # absolute / percentile
    score_min: float = 0.0
    score_max: float = 100.0
    followers_min: int | None = None
    followers_max: int | None = None
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    location_contains: str | None = Field(default=None, max_length=100)
    # "lenient" / "balanced" / "strict" or a number; turned into a threshold when matching.
    bot_strictness: str = Field(default="balanced", max_length=20)
    exclude_recent_days: int | None = None
    one_per_person: bool = True
    # Whose accounts: "shared" (the shared pool), "lists" (the brand's own lists) or "both".
    audience: str = Field(default="shared", max_length=10,
                          sa_column_kwargs={"server_default": "shared"})
    opted_in_only: bool = False  # only accounts whose consent is opted_in
    export_bio_location: bool = False  # the CSV carries bio and location only when asked
    starts_on: date | None = None
    ends_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ShortlistEntry(SQLModel, table=True):
    """An account's place on a campaign's shortlist; approved and dropped are human decisions."""

    __tablename__ = "shortlist_entry"
    __table_args__ = (
        UniqueConstraint("campaign_id", "account_id", name="uq_shortlist_campaign_account"),
        Index("ix_shortlist_campaign_status_rank", "campaign_id", "status", "rank"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    status: str = Field(default="waitlist", max_length=20)
    rank: int | None = None
    relevance: float | None = None
    updated_at: datetime = Field(default_factory=utcnow)  # also when approved or dropped
    decided_by: int | None = Field(default=None, foreign_key="user.id")  # who approved/dropped


class ReviewDecision(SQLModel, table=True):
    """A brand's current verdict on a flagged account; `version` guards concurrent reviewers."""

    __tablename__ = "review_decision"
    __table_args__ = (UniqueConstraint("brand_id", "account_id", name="uq_review_brand_account"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    decision: str = Field(max_length=20)  # automated / genuine / unsure
    note: str | None = Field(default=None, max_length=2000)
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class ReviewAudit(SQLModel, table=True):
    """Every decision change, kept when the account is forgotten (account_id nulled)."""

    __tablename__ = "review_audit"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True,
                                   ondelete="SET NULL")
    account_label: str = Field(default="", max_length=200)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow)
    before: str | None = Field(default=None, max_length=20)
    after: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    model_version: str | None = Field(default=None, max_length=40)
    probability: float | None = None
    # None: the change was stored; "lost": a reviewer's decision refused by a conflict (the
    # stored decision it lost to is in `before`), kept so the trail shows both sides.
    outcome: str | None = Field(default=None, max_length=20)


class BrandBotScore(SQLModel, table=True):
    """A brand's adapted bot probability of an account (perks.detection.adapt writes it; the
    funnel reads it through perks.detection.policy.brand_bot_probability). No row: the
    account's own bot_probability holds for the brand."""

    __tablename__ = "brand_bot_score"

    brand_id: int = Field(foreign_key="brand.id", primary_key=True, ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE",
                            index=True)
    probability: float
    model_version: str = Field(max_length=80)
    reasons: list[Any] | None = Field(default=None, sa_column=Column(JSON))


class AuditSample(SQLModel, table=True):
    """The uniform random sample of a campaign's matched pool that its brand reviews to
    measure the pool's bot share (perks.detection.audit)."""

    __tablename__ = "audit_sample"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE",
                            index=True)
    drawn_at: datetime = Field(default_factory=utcnow)
    pool_size: int  # the matched pool the sample was drawn from, at the time


class Suppression(SQLModel, table=True):
    """Someone who must never be stored again: a salted hash, never the handle or id in clear.

    One row per key: sha256 of "platform:id:<id>" or "platform:handle:<handle lowercased>"
    (perks.privacy.suppression). The importer skips rows whose id or handle key is here.
    """

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=10)  # id / handle
    reason: str = Field(default="forget", max_length=30)  # forget / optout / removal_request
    actor: str | None = Field(default=None, max_length=320)  # who asked perks to forget
    created_at: datetime = Field(default_factory=utcnow)


REMOVAL_STATUSES = ("pending", "confirmed", "rejected")


class RemovalRequest(SQLModel, table=True):
    """A public request to be removed; an admin confirms it (which forgets) or rejects it.

    The handle and contact email are cleared once an admin decides: only the hash stays.
    """

    __tablename__ = "removal_request"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(default="twitter", max_length=30)
    handle: str | None = Field(default=None, max_length=1000)  # encrypted (perks.privacy.sealed)
    handle_hash: str = Field(max_length=64)
    contact_email: str | None = Field(default=None, max_length=1000)  # encrypted too
    status: str = Field(default="pending", max_length=20, index=True)
    client_hash: str = Field(max_length=64, index=True)  # salted hash of the IP, for the limit
    created_at: datetime = Field(default_factory=utcnow, index=True)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=320)


class ApiToken(SQLModel, table=True):
    """A user's bearer token for /api/v1: only its sha256 is stored, shown once at creation."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # the first characters, so a person can tell tokens apart
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class RateLimitHit(SQLModel, table=True):
    """One attempt counted against one limiter key: a salted hash, never an email or address
    in clear (perks.auth.throttle)."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_key_hash_at", "key_hash", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)
