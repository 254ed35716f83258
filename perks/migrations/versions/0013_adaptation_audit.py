"""brand_bot_score, audit_sample and review_audit.outcome: per-brand adapted bot probabilities,
the pool audit's sample, and the losing side of a decision conflict in the audit trail

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

New tables and one nullable column; own DDL, no live perks code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_bot_score",
        sa.Column("brand_id", sa.Integer(), sa.ForeignKey("brand.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
    )
    op.create_index("ix_brand_bot_score_account_id", "brand_bot_score", ["account_id"])
    op.create_table(
        "audit_sample",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pool_size", sa.Integer(), nullable=False),
    )
    op.create_index("ix_audit_sample_account_id", "audit_sample", ["account_id"])
    with op.batch_alter_table("review_audit") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_audit") as batch:
        batch.drop_column("outcome")
    op.drop_table("audit_sample")
    op.drop_table("brand_bot_score")
