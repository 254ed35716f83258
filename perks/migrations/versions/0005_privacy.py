"""privacy: suppression list, removal requests, probable minors, opted-in-only campaigns

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30

Branches from 0003 beside the review stage's 0004; a merge revision joins them.
Stored accounts get `probable_minor` computed from their bios here, so the exclusion holds for
accounts imported before this revision too. The heuristic is frozen below as
perks.privacy.minors had it when this revision was written, so a later change to that module
does not change what this upgrade computes.
"""

import re
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would rebuild account on SQLite and lose its expression
    # index on lower(screen_name); a constant server default is all SQLite needs here.
    op.add_column('account', sa.Column('probable_minor', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column('import_run', sa.Column('suppressed', sa.Integer(), nullable=False,
                                          server_default='0'))
    op.add_column('campaign', sa.Column('opted_in_only', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('campaign', sa.Column('export_bio_location', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.create_table('suppression',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_table('removal_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=30), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=True),
    sa.Column('handle_hash', sa.String(length=64), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('removal_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_request_client_hash'), ['client_hash'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_removal_request_created_at'), ['created_at'],
                              unique=False)
    _backfill_probable_minors()


def _backfill_probable_minors() -> None:
    connection = op.get_bind()
    account = sa.table('account', sa.column('id', sa.Integer),
                       sa.column('description', sa.Text), sa.column('observed_at', sa.DateTime),
                       sa.column('probable_minor', sa.Boolean))
    rows = connection.execute(sa.select(account.c.id, account.c.description,
                                        account.c.observed_at)
                              .where(account.c.description.is_not(None))).all()
    flagged = [{"i": id_} for id_, bio, seen in rows if _probable_minor(bio, observed_at=seen)]
    if flagged:
        connection.execute(account.update().where(account.c.id == sa.bindparam("i"))
                           .values(probable_minor=True), flagged)


def downgrade() -> None:
    with op.batch_alter_table('removal_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removal_request_created_at'))
        batch_op.drop_index(batch_op.f('ix_removal_request_client_hash'))
        batch_op.drop_index(batch_op.f('ix_removal_request_status'))
    op.drop_table('removal_request')
    op.drop_table('suppression')
    # SQLite >= 3.35 drops columns in place; batch mode would lose the expression index.
    op.drop_column('campaign', 'export_bio_location')
    op.drop_column('campaign', 'opted_in_only')
    op.drop_column('import_run', 'suppressed')
    op.drop_column('account', 'probable_minor')


# perks.privacy.minors at this revision (see the module docstring).
_AGE = r"(?:1[0-7])"
_PATTERNS = [
    # 1. age with a unit
    rf"\b{_AGE}\s*(?:y/?o|y\.o\.?|yrs?\b(?:\s*old)?|years?\s*old|year-old)",
    rf"\bage[d]?\s*:?\s*{_AGE}\b",
    # 2. self statement
    rf"\b(?:i'?m|i’m|i\s+am)\s+{_AGE}\b(?!\s*(?:k|%|/|\.\d|,\d))",
    r"\b(?:i'?m|i’m|i\s+am)\s+(?:a\s+|just\s+a\s+)?(?:teen|teenager)\b",
    # 3. other languages
    rf"\b(?:ho|tengo|tenho|j'ai|j’ai|bin)\s+{_AGE}\b",
    rf"\b{_AGE}\s*(?:anni|años|anos|ans|jahre(?:\s+alt)?)\b",
    # 4. school
    r"\b(?:6|7|8|9|10|11|12)(?:st|nd|rd|th)\s*grade(?:r)?\b",
    r"\bgrade\s*(?:6|7|8|9|10|11|12)\b",
    r"\b(?:middle\s+schooler|(?:in|at)\s+(?:middle\s+school|junior\s+high))\b",
    r"\b(?:high\s*school|hs)\s+(?:freshman|sophomore|junior|senior)\b",
    r"\b(?:freshman|sophomore|junior|senior)\s+(?:in|at)\s+(?:high\s*school|hs)\b",
    r"\b(?:prima|seconda|terza)\s+(?:media|liceo)\b",
    # 5. graduating class (the year is checked in code)
    r"\b(?:class\s+of|c/o)\s*(?P<year>'\d{2}|\d{4})\b",
]
_MATCH = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
# Cheap gate: most bios have none of these, so the full pattern never runs on them.
_GATE = re.compile(r"1[0-7]|grade|school|junior|teen|class|c/o|media|liceo", re.IGNORECASE)
# Someone else's age or grade: a relation or role word up to 30 characters before the match.
_OTHER_BEFORE = re.compile(
    r"\b(?:mom|mum|mama|mommy|mother|dad|daddy|papa|father|parent|parents|grandma|grandpa|"
    r"granny|aunt|auntie|uncle|stepmom|stepdad|nanny|tutor|teacher|teach|teaches|teaching|"
    r"taught|coach|coaching|principal|counselor|counsellor|raising|son|sons|daughter|"
    r"daughters|kid|kids|child|children|twins|madre|padre|mamma|papà|insegnante|prof)\b"
    r"[^.!?|\n]{0,30}$", re.IGNORECASE)
# A duration or a past age, right before: "since age 14", "da 14 anni", "when i was 14", "my 14yo".
_TIME_BEFORE = re.compile(
    r"\b(?:my|our|da|per|hace|desde|durante|depuis|pendant|seit|since|for|over|after|when|"
    r"was|from|started|began|at)\s+(?:\w+\s+)?$", re.IGNORECASE)
# A role, an experience or a unit after: "8th grade teacher", "14 years of experience".
_OTHER_AFTER = re.compile(
    r"^[^.!?|\n]{0,25}?\b(?:teacher|teachers|coach|tutor|parent|parents|mom|mum|dad|"
    r"advisor|adviser|counselor|principal|staff|students|experience|esperienza|experiencia|"
    r"expérience|erfahrung|son|daughter|kid|kids|reunion)\b", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"^\s*(?:of|in|di|de|d['’]|ago|fa|min|mins|minutes|hours|hrs|days|weeks|months|miles|km|"
    r"k\b|%)", re.IGNORECASE)


def _minor_evidence(bio: str | None, *, observed_at: datetime | None = None) -> str | None:
    """The phrase that makes the bio read like a minor's, or None.

    `observed_at` dates a "class of" year; without it "class of" phrases are not used.
    """
    if not bio or not _GATE.search(bio):
        return None
    for match in _MATCH.finditer(bio):
        if _about_someone_else(bio, match.start(), match.end()):
            continue
        year = match.group("year")
        if year is not None and not _class_year_is_school_age(year, observed_at):
            continue
        return match.group(0).strip()
    return None


def _probable_minor(bio: str | None, *, observed_at: datetime | None = None) -> bool:
    """True when the bio reads like a minor describing themselves (rules: perks.privacy.minors)."""
    return _minor_evidence(bio, observed_at=observed_at) is not None


def _about_someone_else(bio: str, start: int, end: int) -> bool:
    before, after = bio[max(0, start - 40):start], bio[end:end + 40]
    return bool(_OTHER_BEFORE.search(before) or _TIME_BEFORE.search(before)
                or _OTHER_AFTER.search(after) or _UNIT_AFTER.search(after))


def _class_year_is_school_age(year_text: str, observed_at: datetime | None) -> bool:
    if observed_at is None:
        return False
    # A school year ends in June: from July on, the next class is the one graduating.
    graduating = observed_at.year + (1 if observed_at.month >= 7 else 0)
    year = int(year_text.lstrip("'"))
    if len(year_text) == 3:  # "'27": the century of the observation
        year += observed_at.year - observed_at.year % 100
    return graduating <= year <= graduating + 4
