"""topic_rank: scored accounts' topic rows with their ranking inputs, indexed by rank

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

A new table, so no batch mode touches account (that would drop ix_account_handle on SQLite).
Filled from the stored scores here, then kept in step by triggers on account and
account_topic. Their DDL is frozen here as it was at this revision (a migration imports no
live code, so a fresh database and an upgraded one get the same triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# S608: constant DDL of this revision.
FILL = ('INSERT INTO topic_rank (account_id, topic_id, weight, score, percentile, '
     'bot_probability, rule_flagged, blocked, birth_year, opted_in, '
     'followers_count, person_key) SELECT account_topic.account_id, '
     'account_topic.topic_id, account_topic.weight, account.influence_score, '
     'account.influence_percentile, account.bot_probability, (account.bot_flags IS '
     "NOT NULL AND CAST(account.bot_flags AS TEXT) NOT IN ('null', '[]')), "
     '(COALESCE(account.protected, FALSE) OR COALESCE(account.is_minor, FALSE) OR '
     "COALESCE(account.probable_minor, FALSE) OR account.consent = 'opted_out'), "
     "account.birth_year, (account.consent = 'opted_in'), account.followers_count, "
     'COALESCE(account.person_id, -account.id) FROM account_topic JOIN account ON '
     'account.id = account_topic.account_id WHERE account.influence_score IS NOT '
     'NULL')  # noqa: S608
TRIGGERS = {
    "sqlite": [
        ('CREATE TRIGGER topic_rank_account AFTER UPDATE OF influence_score, '
         'influence_percentile, bot_probability, bot_flags, protected, is_minor, '
         'probable_minor, consent, birth_year, followers_count, person_id ON account '
         'BEGIN DELETE FROM topic_rank WHERE account_id = NEW.id AND '
         'NEW.influence_score IS NULL; UPDATE topic_rank SET score = '
         'NEW.influence_score, percentile = NEW.influence_percentile, bot_probability = '
         'NEW.bot_probability, rule_flagged = (NEW.bot_flags IS NOT NULL AND '
         "CAST(NEW.bot_flags AS TEXT) NOT IN ('null', '[]')), blocked = "
         '(COALESCE(NEW.protected, FALSE) OR COALESCE(NEW.is_minor, FALSE) OR '
         "COALESCE(NEW.probable_minor, FALSE) OR NEW.consent = 'opted_out'), birth_year "
         "= NEW.birth_year, opted_in = (NEW.consent = 'opted_in'), followers_count = "
         'NEW.followers_count, person_key = COALESCE(NEW.person_id, -NEW.id) WHERE '
         'account_id = NEW.id AND NEW.influence_score IS NOT NULL; INSERT INTO '
         'topic_rank (account_id, topic_id, weight, score, percentile, bot_probability, '
         'rule_flagged, blocked, birth_year, opted_in, followers_count, person_key) '
         'SELECT account_topic.account_id, account_topic.topic_id, '
         'account_topic.weight, NEW.influence_score, NEW.influence_percentile, '
         'NEW.bot_probability, (NEW.bot_flags IS NOT NULL AND CAST(NEW.bot_flags AS '
         "TEXT) NOT IN ('null', '[]')), (COALESCE(NEW.protected, FALSE) OR "
         'COALESCE(NEW.is_minor, FALSE) OR COALESCE(NEW.probable_minor, FALSE) OR '
         "NEW.consent = 'opted_out'), NEW.birth_year, (NEW.consent = 'opted_in'), "
         'NEW.followers_count, COALESCE(NEW.person_id, -NEW.id) FROM account_topic '
         'WHERE account_topic.account_id = NEW.id AND NEW.influence_score IS NOT NULL '
         'AND OLD.influence_score IS NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_insert AFTER INSERT ON account_topic BEGIN '
         'INSERT INTO topic_rank (account_id, topic_id, weight, score, percentile, '
         'bot_probability, rule_flagged, blocked, birth_year, opted_in, '
         'followers_count, person_key) SELECT NEW.account_id, NEW.topic_id, NEW.weight, '
         'account.influence_score, account.influence_percentile, '
         'account.bot_probability, (account.bot_flags IS NOT NULL AND '
         "CAST(account.bot_flags AS TEXT) NOT IN ('null', '[]')), "
         '(COALESCE(account.protected, FALSE) OR COALESCE(account.is_minor, FALSE) OR '
         "COALESCE(account.probable_minor, FALSE) OR account.consent = 'opted_out'), "
         "account.birth_year, (account.consent = 'opted_in'), account.followers_count, "
         'COALESCE(account.person_id, -account.id) FROM account WHERE account.id = '
         'NEW.account_id AND account.influence_score IS NOT NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_delete AFTER DELETE ON account_topic BEGIN '
         'DELETE FROM topic_rank WHERE account_id = OLD.account_id AND topic_id = '
         'OLD.topic_id; END'),
        ('CREATE TRIGGER topic_rank_topic_update AFTER UPDATE OF account_id, topic_id, '
         'weight ON account_topic BEGIN DELETE FROM topic_rank WHERE account_id = '
         'OLD.account_id AND topic_id = OLD.topic_id; INSERT INTO topic_rank '
         '(account_id, topic_id, weight, score, percentile, bot_probability, '
         'rule_flagged, blocked, birth_year, opted_in, followers_count, person_key) '
         'SELECT NEW.account_id, NEW.topic_id, NEW.weight, account.influence_score, '
         'account.influence_percentile, account.bot_probability, (account.bot_flags IS '
         "NOT NULL AND CAST(account.bot_flags AS TEXT) NOT IN ('null', '[]')), "
         '(COALESCE(account.protected, FALSE) OR COALESCE(account.is_minor, FALSE) OR '
         "COALESCE(account.probable_minor, FALSE) OR account.consent = 'opted_out'), "
         "account.birth_year, (account.consent = 'opted_in'), account.followers_count, "
         'COALESCE(account.person_id, -account.id) FROM account WHERE account.id = '
         'NEW.account_id AND account.influence_score IS NOT NULL; END'),
    ],
    "postgresql": [
        ('CREATE FUNCTION topic_rank_account() RETURNS trigger LANGUAGE plpgsql AS $$ '
         'BEGIN IF NEW.influence_score IS NULL THEN DELETE FROM topic_rank WHERE '
         'account_id = NEW.id; ELSIF OLD.influence_score IS NULL THEN INSERT INTO '
         'topic_rank (account_id, topic_id, weight, score, percentile, bot_probability, '
         'rule_flagged, blocked, birth_year, opted_in, followers_count, person_key) '
         'SELECT account_topic.account_id, account_topic.topic_id, '
         'account_topic.weight, NEW.influence_score, NEW.influence_percentile, '
         'NEW.bot_probability, (NEW.bot_flags IS NOT NULL AND CAST(NEW.bot_flags AS '
         "TEXT) NOT IN ('null', '[]')), (COALESCE(NEW.protected, FALSE) OR "
         'COALESCE(NEW.is_minor, FALSE) OR COALESCE(NEW.probable_minor, FALSE) OR '
         "NEW.consent = 'opted_out'), NEW.birth_year, (NEW.consent = 'opted_in'), "
         'NEW.followers_count, COALESCE(NEW.person_id, -NEW.id) FROM account_topic '
         'WHERE account_topic.account_id = NEW.id; ELSE UPDATE topic_rank SET score = '
         'NEW.influence_score, percentile = NEW.influence_percentile, bot_probability = '
         'NEW.bot_probability, rule_flagged = (NEW.bot_flags IS NOT NULL AND '
         "CAST(NEW.bot_flags AS TEXT) NOT IN ('null', '[]')), blocked = "
         '(COALESCE(NEW.protected, FALSE) OR COALESCE(NEW.is_minor, FALSE) OR '
         "COALESCE(NEW.probable_minor, FALSE) OR NEW.consent = 'opted_out'), birth_year "
         "= NEW.birth_year, opted_in = (NEW.consent = 'opted_in'), followers_count = "
         'NEW.followers_count, person_key = COALESCE(NEW.person_id, -NEW.id) WHERE '
         'account_id = NEW.id; END IF; RETURN NULL; END $$'),
        ('CREATE TRIGGER topic_rank_account AFTER UPDATE OF influence_score, '
         'influence_percentile, bot_probability, bot_flags, protected, is_minor, '
         'probable_minor, consent, birth_year, followers_count, person_id ON account '
         'FOR EACH ROW EXECUTE FUNCTION topic_rank_account()'),
        ('CREATE FUNCTION topic_rank_topic() RETURNS trigger LANGUAGE plpgsql AS $$ '
         "BEGIN IF TG_OP <> 'INSERT' THEN DELETE FROM topic_rank WHERE account_id = "
         "OLD.account_id AND topic_id = OLD.topic_id; END IF; IF TG_OP <> 'DELETE' THEN "
         'INSERT INTO topic_rank (account_id, topic_id, weight, score, percentile, '
         'bot_probability, rule_flagged, blocked, birth_year, opted_in, '
         'followers_count, person_key) SELECT NEW.account_id, NEW.topic_id, NEW.weight, '
         'account.influence_score, account.influence_percentile, '
         'account.bot_probability, (account.bot_flags IS NOT NULL AND '
         "CAST(account.bot_flags AS TEXT) NOT IN ('null', '[]')), "
         '(COALESCE(account.protected, FALSE) OR COALESCE(account.is_minor, FALSE) OR '
         "COALESCE(account.probable_minor, FALSE) OR account.consent = 'opted_out'), "
         "account.birth_year, (account.consent = 'opted_in'), account.followers_count, "
         'COALESCE(account.person_id, -account.id) FROM account WHERE account.id = '
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
    op.create_table(
        "topic_rank",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=True),
        sa.Column("bot_probability", sa.Float(), nullable=True),
        sa.Column("rule_flagged", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("followers_count", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"]),
        sa.PrimaryKeyConstraint("account_id", "topic_id"),
    )
    op.create_index("ix_topic_rank_percentile", "topic_rank",
                    ["topic_id", sa.text("(weight * percentile) DESC"), "account_id"])
    op.create_index("ix_topic_rank_score", "topic_rank",
                    ["topic_id", sa.text("(weight * score) DESC"), "account_id"])
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.execute(FILL)


def downgrade() -> None:
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index("ix_topic_rank_score", table_name="topic_rank")
    op.drop_index("ix_topic_rank_percentile", table_name="topic_rank")
    op.drop_table("topic_rank")
