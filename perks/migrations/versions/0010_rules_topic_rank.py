"""topic_rank copies the account columns the campaign rules read, under their own names

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Before, the table held pre-computed verdicts (``blocked``, ``opted_in``, ``rule_flagged``) whose
SQL restated the privacy and flag rules a third time. Now the triggers only copy columns
(perks.campaigns.rules.RANKING_COLUMNS) and the rules are applied at query time, from one
definition, to this table as to ``account``. The table is derived data: dropped, recreated and
refilled. The DDL is frozen here (a migration imports no live code); tests/test_ranking.py
checks it against perks.campaigns.ranking.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# S608: constant DDL of this revision.
FILL = ('INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
     'influence_percentile, person_id, followers_count, lang, location, protected, '
     'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags) '
     'SELECT account_topic.account_id, account_topic.topic_id, '
     'account_topic.weight, account.influence_score, account.influence_percentile, '
     'account.person_id, account.followers_count, account.lang, account.location, '
     'account.protected, account.is_minor, account.birth_year, '
     'account.probable_minor, account.consent, account.bot_probability, '
     'account.bot_flags FROM account_topic JOIN account ON account.id = '
     'account_topic.account_id WHERE account.influence_score IS NOT NULL')  # noqa: S608
TRIGGERS = {
    "sqlite": [
        ('CREATE TRIGGER topic_rank_account AFTER UPDATE OF influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags ON '
         'account BEGIN DELETE FROM topic_rank WHERE account_id = NEW.id AND '
         'NEW.influence_score IS NULL; UPDATE topic_rank SET influence_score = '
         'NEW.influence_score, influence_percentile = NEW.influence_percentile, '
         'person_id = NEW.person_id, followers_count = NEW.followers_count, lang = '
         'NEW.lang, location = NEW.location, protected = NEW.protected, is_minor = '
         'NEW.is_minor, birth_year = NEW.birth_year, probable_minor = '
         'NEW.probable_minor, consent = NEW.consent, bot_probability = '
         'NEW.bot_probability, bot_flags = NEW.bot_flags WHERE account_id = NEW.id AND '
         'NEW.influence_score IS NOT NULL; INSERT INTO topic_rank (account_id, '
         'topic_id, weight, influence_score, influence_percentile, person_id, '
         'followers_count, lang, location, protected, is_minor, birth_year, '
         'probable_minor, consent, bot_probability, bot_flags) SELECT '
         'account_topic.account_id, account_topic.topic_id, account_topic.weight, '
         'NEW.influence_score, NEW.influence_percentile, NEW.person_id, '
         'NEW.followers_count, NEW.lang, NEW.location, NEW.protected, NEW.is_minor, '
         'NEW.birth_year, NEW.probable_minor, NEW.consent, NEW.bot_probability, '
         'NEW.bot_flags FROM account_topic WHERE account_topic.account_id = NEW.id AND '
         'NEW.influence_score IS NOT NULL AND OLD.influence_score IS NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_insert AFTER INSERT ON account_topic BEGIN '
         'INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags) '
         'SELECT NEW.account_id, NEW.topic_id, NEW.weight, account.influence_score, '
         'account.influence_percentile, account.person_id, account.followers_count, '
         'account.lang, account.location, account.protected, account.is_minor, '
         'account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags FROM account WHERE account.id = '
         'NEW.account_id AND account.influence_score IS NOT NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_delete AFTER DELETE ON account_topic BEGIN '
         'DELETE FROM topic_rank WHERE account_id = OLD.account_id AND topic_id = '
         'OLD.topic_id; END'),
        ('CREATE TRIGGER topic_rank_topic_update AFTER UPDATE OF account_id, topic_id, '
         'weight ON account_topic BEGIN DELETE FROM topic_rank WHERE account_id = '
         'OLD.account_id AND topic_id = OLD.topic_id; INSERT INTO topic_rank '
         '(account_id, topic_id, weight, influence_score, influence_percentile, '
         'person_id, followers_count, lang, location, protected, is_minor, birth_year, '
         'probable_minor, consent, bot_probability, bot_flags) SELECT NEW.account_id, '
         'NEW.topic_id, NEW.weight, account.influence_score, '
         'account.influence_percentile, account.person_id, account.followers_count, '
         'account.lang, account.location, account.protected, account.is_minor, '
         'account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags FROM account WHERE account.id = '
         'NEW.account_id AND account.influence_score IS NOT NULL; END'),
    ],
    "postgresql": [
        ('CREATE FUNCTION topic_rank_account() RETURNS trigger LANGUAGE plpgsql AS $$ '
         'BEGIN IF NEW.influence_score IS NULL THEN DELETE FROM topic_rank WHERE '
         'account_id = NEW.id; ELSIF OLD.influence_score IS NULL THEN INSERT INTO '
         'topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags) '
         'SELECT account_topic.account_id, account_topic.topic_id, '
         'account_topic.weight, NEW.influence_score, NEW.influence_percentile, '
         'NEW.person_id, NEW.followers_count, NEW.lang, NEW.location, NEW.protected, '
         'NEW.is_minor, NEW.birth_year, NEW.probable_minor, NEW.consent, '
         'NEW.bot_probability, NEW.bot_flags FROM account_topic WHERE '
         'account_topic.account_id = NEW.id; ELSE UPDATE topic_rank SET influence_score '
         '= NEW.influence_score, influence_percentile = NEW.influence_percentile, '
         'person_id = NEW.person_id, followers_count = NEW.followers_count, lang = '
         'NEW.lang, location = NEW.location, protected = NEW.protected, is_minor = '
         'NEW.is_minor, birth_year = NEW.birth_year, probable_minor = '
         'NEW.probable_minor, consent = NEW.consent, bot_probability = '
         'NEW.bot_probability, bot_flags = NEW.bot_flags WHERE account_id = NEW.id; END '
         'IF; RETURN NULL; END $$'),
        ('CREATE TRIGGER topic_rank_account AFTER UPDATE OF influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags ON '
         'account FOR EACH ROW EXECUTE FUNCTION topic_rank_account()'),
        ('CREATE FUNCTION topic_rank_topic() RETURNS trigger LANGUAGE plpgsql AS $$ '
         "BEGIN IF TG_OP <> 'INSERT' THEN DELETE FROM topic_rank WHERE account_id = "
         "OLD.account_id AND topic_id = OLD.topic_id; END IF; IF TG_OP <> 'DELETE' THEN "
         'INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags) '
         'SELECT NEW.account_id, NEW.topic_id, NEW.weight, account.influence_score, '
         'account.influence_percentile, account.person_id, account.followers_count, '
         'account.lang, account.location, account.protected, account.is_minor, '
         'account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags FROM account WHERE account.id = '
         'NEW.account_id AND account.influence_score IS NOT NULL; END IF; RETURN NULL; '
         'END $$'),
        ('CREATE TRIGGER topic_rank_topic AFTER INSERT OR DELETE OR UPDATE OF '
         'account_id, topic_id, weight ON account_topic FOR EACH ROW EXECUTE FUNCTION '
         'topic_rank_topic()'),
    ],
}
DROP_TRIGGERS = {
    "sqlite": [
        'DROP TRIGGER IF EXISTS topic_rank_account',
        'DROP TRIGGER IF EXISTS topic_rank_topic_insert',
        'DROP TRIGGER IF EXISTS topic_rank_topic_delete',
        'DROP TRIGGER IF EXISTS topic_rank_topic_update',
    ],
    "postgresql": [
        'DROP TRIGGER IF EXISTS topic_rank_account ON account',
        'DROP TRIGGER IF EXISTS topic_rank_topic ON account_topic',
        'DROP FUNCTION IF EXISTS topic_rank_account()',
        'DROP FUNCTION IF EXISTS topic_rank_topic()',
    ],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in DROP_TRIGGERS[dialect]:
        op.execute(statement)
    op.drop_index("ix_topic_rank_score", table_name="topic_rank")
    op.drop_index("ix_topic_rank_percentile", table_name="topic_rank")
    op.drop_table("topic_rank")
    op.create_table(
        "topic_rank",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("influence_score", sa.Float(), nullable=False),
        sa.Column("influence_percentile", sa.Float(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("followers_count", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=40), nullable=True),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("probable_minor", sa.Boolean(), nullable=False),
        sa.Column("consent", sa.String(length=20), nullable=False),
        sa.Column("bot_probability", sa.Float(), nullable=True),
        sa.Column("bot_flags", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"]),
        sa.PrimaryKeyConstraint("account_id", "topic_id"),
    )
    op.create_index("ix_topic_rank_percentile", "topic_rank",
                    ["topic_id", sa.text("(weight * influence_percentile) DESC"), "account_id"])
    op.create_index("ix_topic_rank_score", "topic_rank",
                    ["topic_id", sa.text("(weight * influence_score) DESC"), "account_id"])
    for statement in TRIGGERS[dialect]:
        op.execute(statement)
    op.execute(FILL)


def downgrade() -> None:
    # Derived data with a new shape: going back means restoring 0009's table from a backup.
    raise NotImplementedError("downgrade below 0010 is not supported; restore a backup")
