"""taxonomy_state: the fingerprint of the taxonomy the stored inferred topics came from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

A new one-row table only; no data is seeded (perks score writes the row).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxonomy_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("topics", sa.Integer(), nullable=False),
        sa.Column("keywords", sa.Integer(), nullable=False),
        sa.Column("inferred_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("taxonomy_state")
