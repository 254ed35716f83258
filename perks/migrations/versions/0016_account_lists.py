"""account_list, account_list_member, account.shared, campaign.audience: uploaded accounts
belong to the uploading brand's named list, and a campaign targets the shared pool, the
brand's lists or both

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Every account stored so far is in the shared pool (shared = true) and every campaign so far
targets it (audience = 'shared'): the column defaults are the backfill. topic_rank copies the
new `shared` column like the other rule columns, so its triggers are recreated; the DDL is
frozen here (a migration imports no live code) and tests/test_ranking_ddl.py checks it against
perks.campaigns.ranking. The rows topic_rank holds already carry shared = true, which is what
FILL would copy, so the table is not refilled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
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
         'shared ON account BEGIN DELETE FROM topic_rank WHERE account_id = NEW.id AND '
         'NEW.influence_score IS NULL; UPDATE topic_rank SET influence_score = '
         'NEW.influence_score, influence_percentile = NEW.influence_percentile, person_id '
         '= NEW.person_id, followers_count = NEW.followers_count, lang = NEW.lang, '
         'location = NEW.location, protected = NEW.protected, is_minor = NEW.is_minor, '
         'birth_year = NEW.birth_year, probable_minor = NEW.probable_minor, consent = '
         'NEW.consent, bot_probability = NEW.bot_probability, bot_flags = NEW.bot_flags, '
         'shared = NEW.shared WHERE account_id = NEW.id AND NEW.influence_score IS NOT '
         'NULL; INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
         'shared) SELECT account_topic.account_id, account_topic.topic_id, '
         'account_topic.weight, NEW.influence_score, NEW.influence_percentile, '
         'NEW.person_id, NEW.followers_count, NEW.lang, NEW.location, NEW.protected, '
         'NEW.is_minor, NEW.birth_year, NEW.probable_minor, NEW.consent, '
         'NEW.bot_probability, NEW.bot_flags, NEW.shared FROM account_topic WHERE '
         'account_topic.account_id = NEW.id AND NEW.influence_score IS NOT NULL AND '
         'OLD.influence_score IS NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_insert AFTER INSERT ON account_topic BEGIN '
         'INSERT INTO topic_rank (account_id, topic_id, weight, influence_score, '
         'influence_percentile, person_id, followers_count, lang, location, protected, '
         'is_minor, birth_year, probable_minor, consent, bot_probability, bot_flags, '
         'shared) SELECT NEW.account_id, NEW.topic_id, NEW.weight, '
         'account.influence_score, account.influence_percentile, account.person_id, '
         'account.followers_count, account.lang, account.location, account.protected, '
         'account.is_minor, account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags, account.shared FROM account WHERE '
         'account.id = NEW.account_id AND account.influence_score IS NOT NULL; END'),
        ('CREATE TRIGGER topic_rank_topic_delete AFTER DELETE ON account_topic BEGIN '
         'DELETE FROM topic_rank WHERE account_id = OLD.account_id AND topic_id = '
         'OLD.topic_id; END'),
        ('CREATE TRIGGER topic_rank_topic_update AFTER UPDATE OF account_id, topic_id, '
         'weight ON account_topic BEGIN DELETE FROM topic_rank WHERE account_id = '
         'OLD.account_id AND topic_id = OLD.topic_id; INSERT INTO topic_rank (account_id, '
         'topic_id, weight, influence_score, influence_percentile, person_id, '
         'followers_count, lang, location, protected, is_minor, birth_year, '
         'probable_minor, consent, bot_probability, bot_flags, shared) SELECT '
         'NEW.account_id, NEW.topic_id, NEW.weight, account.influence_score, '
         'account.influence_percentile, account.person_id, account.followers_count, '
         'account.lang, account.location, account.protected, account.is_minor, '
         'account.birth_year, account.probable_minor, account.consent, '
         'account.bot_probability, account.bot_flags, account.shared FROM account WHERE '
         'account.id = NEW.account_id AND account.influence_score IS NOT NULL; END'),
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
         'shared ON account FOR EACH ROW EXECUTE FUNCTION topic_rank_account()'),
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
         'topic_id, weight ON account_topic FOR EACH ROW EXECUTE FUNCTION '
         'topic_rank_topic()'),
    ],
}
DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS topic_rank_account",
        "DROP TRIGGER IF EXISTS topic_rank_topic_insert",
        "DROP TRIGGER IF EXISTS topic_rank_topic_delete",
        "DROP TRIGGER IF EXISTS topic_rank_topic_update",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS topic_rank_account ON account",
        "DROP TRIGGER IF EXISTS topic_rank_topic ON account_topic",
        "DROP FUNCTION IF EXISTS topic_rank_account()",
        "DROP FUNCTION IF EXISTS topic_rank_topic()",
    ],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "account_list",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("brand_id", sa.Integer(), sa.ForeignKey("brand.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("brand_id", "name", name="uq_account_list_brand_name"),
    )
    op.create_index("ix_account_list_brand_id", "account_list", ["brand_id"])
    op.create_table(
        "account_list_member",
        sa.Column("list_id", sa.Integer(),
                  sa.ForeignKey("account_list.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Integer(),
                  sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("import_run_id", sa.Integer(), sa.ForeignKey("import_run.id"), nullable=True),
        sa.PrimaryKeyConstraint("list_id", "account_id"),
    )
    op.create_index("ix_account_list_member_account_id", "account_list_member", ["account_id"])
    # Plain ADD COLUMN (no batch rebuild): account is the parent of many cascading keys.
    op.add_column("account", sa.Column("shared", sa.Boolean(), nullable=False,
                                       server_default=sa.true()))
    op.add_column("import_run", sa.Column("account_list_id", sa.Integer(), nullable=True))
    # The funnel finds the few accounts outside a shared audience through it (matching.funnel).
    op.create_index("ix_account_shared", "account", ["shared"])
    op.add_column("campaign", sa.Column("audience", sa.String(length=10), nullable=False,
                                        server_default="shared"))
    op.add_column("topic_rank", sa.Column("shared", sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    for statement in DROP_TRIGGERS[dialect]:
        op.execute(statement)
    for statement in TRIGGERS[dialect]:
        op.execute(statement)


def downgrade() -> None:
    # The triggers of 0010 would have to be restated here; restore a backup instead.
    raise NotImplementedError("downgrade below 0016 is not supported; restore a backup")
