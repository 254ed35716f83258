"""topic_rank: scored accounts' topic rows with their ranking inputs, indexed by rank

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

A new table, so no batch mode touches account (that would drop ix_account_handle on SQLite).
Filled from the stored scores here, then kept in step by triggers on account and
account_topic (perks.campaigns.ranking has their SQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
    from perks.campaigns.ranking import fill_statement, trigger_statements

    for statement in trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.execute(fill_statement())


def downgrade() -> None:
    from perks.campaigns.ranking import drop_trigger_statements

    for statement in drop_trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_topic_rank_score", table_name="topic_rank")
    op.drop_index("ix_topic_rank_percentile", table_name="topic_rank")
    op.drop_table("topic_rank")
