"""import_undo, score_reference, account.unknown_counts: imports committed in batches that a
failed file can take back, percentiles read against a fixed reference, counts a format lacks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

New tables and one added nullable column: nothing existing is rewritten.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_undo",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("import_run_id", sa.Integer(),
                  sa.ForeignKey("import_run.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
    )
    op.create_index("ix_import_undo_import_run_id", "import_undo", ["import_run_id"])
    op.create_table(
        "score_reference",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("score_version", sa.String(length=40), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("quantiles", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_score_reference_score_version", "score_reference", ["score_version"])
    # Plain ADD COLUMN (no batch rebuild): account is the parent of many cascading keys.
    op.add_column("account", sa.Column("unknown_counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_column("unknown_counts")
    op.drop_table("score_reference")
    op.drop_table("import_undo")
