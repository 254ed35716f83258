"""topic_rank's triggers can be paused inside one transaction, for a bulk writer that then
refreshes the rows it wrote with two set-based statements

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

`perks score` spent most of its write time at 1M accounts in the per-row triggers. Each trigger
now has a WHEN condition (perks.accounts.rank_rows.trigger_condition): on PostgreSQL a
transaction-local setting, on SQLite a row in the new `topic_rank_pause` table that a bulk
writer inserts and deletes inside its own transaction. Nothing else changes in the trigger
bodies, and no row of topic_rank changes. The DDL is frozen here (a migration imports no live
code); tests/test_ranking_ddl.py checks it against perks.campaigns.ranking.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# S608: constant DDL of this revision.
FILL = ('INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
        'influence_percentile, person_id, followers_count, lang, location, protected, '
        'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
        'shared) SELECT account_topic.account_id, account_topic.topic_id, '
        'account_topic.weight, account.influence_score, account.influence_percentile, '
        'account.person_id, account.followers_count, account.lang, account.location, '
        'account.protected, account.is_minor, account.birth_year, account.probable_minor,'
        ' account.consent, account.bot_probability, account.bot_flags, account.shared '
        'FROM account_topic JOIN account ON account.id = account_topic.account_id WHERE '
        'account.influence_score IS NOT NULL')  # noqa: S608
TRIGGERS = {
    "sqlite": [
        ('CREATE TRIGGER topic_rank_account AFTER UPDATE OF influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
         'shared ON account WHEN NOT EXISTS (SELECT 1 FROM topic_rank_pause) BEGIN DELETE '
         'FROM topic_rank WHERE account_id = NEW.id AND NEW.influence_score IS NULL; '
         'UPDATE topic_rank SET influence_score = NEW.influence_score, '
         'influence_percentile = NEW.influence_percentile, person_id = NEW.person_id, '
         'followers_count = NEW.followers_count, lang = NEW.lang, location = NEW.location,'
         ' protected = NEW.protected, is_minor = NEW.is_minor, birth_year = '
         'NEW.birth_year, probable_minor = NEW.probable_minor, consent = NEW.consent, '
         'bot_probability = NEW.bot_probability, bot_flags = NEW.bot_flags, shared = '
         'NEW.shared WHERE account_id = NEW.id AND NEW.influence_score IS NOT NULL; INSERT'
         ' INTO topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
         'shared) SELECT account_topic.account_id, account_topic.topic_id, '
         'account_topic.weight, NEW.influence_score, NEW.influence_percentile, '
         'NEW.person_id, NEW.followers_count, NEW.lang, NEW.location, NEW.protected, '
         'NEW.is_minor, NEW.birth_year, NEW.probable_minor, NEW.consent, '
         'NEW.bot_probability, NEW.bot_flags, NEW.shared FROM account_topic WHERE '
         'account_topic.account_id = NEW.id AND NEW.influence_score IS NOT NULL AND '
         'OLD.influence_score IS NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_insert AFTER INSERT ON account_topic WHEN NOT '
         'EXISTS (SELECT 1 FROM topic_rank_pause) BEGIN INSERT INTO topic_rank '
         '(account_id, topic_id, weight, influence_score, influence_percentile, person_id,'
         ' followers_count, lang, location, protected, is_minor, birth_year, '
         'probable_minor, consent, bot_probability, bot_flags, shared) SELECT '
         'NEW.account_id, NEW.topic_id, NEW.weight, account.influence_score, '
         'account.influence_percentile, account.person_id, account.followers_count, '
         'account.lang, account.location, account.protected, account.is_minor, '
         'account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags, account.shared FROM account WHERE '
         'account.id = NEW.account_id AND account.influence_score IS NOT NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_delete AFTER DELETE ON account_topic WHEN NOT '
         'EXISTS (SELECT 1 FROM topic_rank_pause) BEGIN DELETE FROM topic_rank WHERE '
         'account_id = OLD.account_id AND topic_id = OLD.topic_id; END'),
        ('CREATE TRIGGER topic_rank_topic_update AFTER UPDATE OF account_id, topic_id, '
         'weight ON account_topic WHEN NOT EXISTS (SELECT 1 FROM topic_rank_pause) BEGIN '
         'DELETE FROM topic_rank WHERE account_id = OLD.account_id AND topic_id = '
         'OLD.topic_id; INSERT INTO topic_rank (account_id, topic_id, weight, '
         'influence_score, influence_percentile, person_id, followers_count, lang, '
         'location, protected, is_minor, birth_year, probable_minor, consent, '
         'bot_probability, bot_flags, shared) SELECT NEW.account_id, NEW.topic_id, '
         'NEW.weight, account.influence_score, account.influence_percentile, '
         'account.person_id, account.followers_count, account.lang, account.location, '
         'account.protected, account.is_minor, account.birth_year, account.probable_minor,'
         ' account.consent, account.bot_probability, account.bot_flags, account.shared '
         'FROM account WHERE account.id = NEW.account_id AND account.influence_score IS '
         'NOT NULL; END'),
    ],
    "postgresql": [
        ('CREATE FUNCTION topic_rank_account() RETURNS trigger LANGUAGE plpgsql AS $$ '
         'BEGIN IF NEW.influence_score IS NULL THEN DELETE FROM topic_rank WHERE '
         'account_id = NEW.id; ELSIF OLD.influence_score IS NULL THEN INSERT INTO '
         'topic_rank (account_id, topic_id, weight, influence_score, influence_percentile,'
         ' person_id, followers_count, lang, location, protected, is_minor, birth_year, '
         'probable_minor, consent, bot_probability, bot_flags, shared) SELECT '
         'account_topic.account_id, account_topic.topic_id, account_topic.weight, '
         'NEW.influence_score, NEW.influence_percentile, NEW.person_id, '
         'NEW.followers_count, NEW.lang, NEW.location, NEW.protected, NEW.is_minor, '
         'NEW.birth_year, NEW.probable_minor, NEW.consent, NEW.bot_probability, '
         'NEW.bot_flags, NEW.shared FROM account_topic WHERE account_topic.account_id = '
         'NEW.id; ELSE UPDATE topic_rank SET influence_score = NEW.influence_score, '
         'influence_percentile = NEW.influence_percentile, person_id = NEW.person_id, '
         'followers_count = NEW.followers_count, lang = NEW.lang, location = NEW.location,'
         ' protected = NEW.protected, is_minor = NEW.is_minor, birth_year = '
         'NEW.birth_year, probable_minor = NEW.probable_minor, consent = NEW.consent, '
         'bot_probability = NEW.bot_probability, bot_flags = NEW.bot_flags, shared = '
         'NEW.shared WHERE account_id = NEW.id; END IF; RETURN NULL; END $$'),
        ('CREATE TRIGGER topic_rank_account AFTER UPDATE OF influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
         "shared ON account FOR EACH ROW WHEN (current_setting('perks.topic_rank_paused', "
         "true) IS DISTINCT FROM 'on') EXECUTE FUNCTION topic_rank_account()"),
        ('CREATE FUNCTION topic_rank_topic() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
         "IF TG_OP <> 'INSERT' THEN DELETE FROM topic_rank WHERE account_id = "
         "OLD.account_id AND topic_id = OLD.topic_id; END IF; IF TG_OP <> 'DELETE' THEN "
         'INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
         'shared) SELECT NEW.account_id, NEW.topic_id, NEW.weight, '
         'account.influence_score, account.influence_percentile, account.person_id, '
         'account.followers_count, account.lang, account.location, account.protected, '
         'account.is_minor, account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags, account.shared FROM account WHERE '
         'account.id = NEW.account_id AND account.influence_score IS NOT NULL; END IF; '
         'RETURN NULL; END $$'),
        ('CREATE TRIGGER topic_rank_topic AFTER INSERT OR DELETE OR UPDATE OF account_id, '
         'topic_id, weight ON account_topic FOR EACH ROW WHEN '
         "(current_setting('perks.topic_rank_paused', true) IS DISTINCT FROM 'on') EXECUTE"
         ' FUNCTION topic_rank_topic()'),
    ],
}

DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS topic_rank_account",
        "DROP TRIGGER IF EXISTS topic_rank_topic_insert",
        "DROP TRIGGER IF EXISTS topic_rank_topic_delete",
        "DROP TRIGGER IF EXISTS topic_rank_topic_update",
    ],
    # The functions are dropped with them and made again from the same text.
    "postgresql": [
        "DROP TRIGGER IF EXISTS topic_rank_account ON account",
        "DROP TRIGGER IF EXISTS topic_rank_topic ON account_topic",
        "DROP FUNCTION IF EXISTS topic_rank_account()",
        "DROP FUNCTION IF EXISTS topic_rank_topic()",
    ],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":  # PostgreSQL pauses with a transaction-local setting instead
        op.create_table("topic_rank_pause",
                        sa.Column("paused", sa.Integer(), nullable=False))
    for statement in DROP_TRIGGERS[dialect]:
        op.execute(statement)
    for statement in TRIGGERS[dialect]:
        op.execute(statement)


def downgrade() -> None:
    # The triggers of 0016 would have to be restated here; restore a backup instead.
    raise NotImplementedError("downgrade below 0019 is not supported; restore a backup")
