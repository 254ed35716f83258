"""score snapshots: scores kept when the score version changes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('score_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('score_version', sa.String(length=40), nullable=False),
    sa.Column('influence_score', sa.Float(), nullable=True),
    sa.Column('influence_percentile', sa.Float(), nullable=True),
    sa.Column('components', sa.JSON(), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_snapshot_account_id'), ['account_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('score_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_snapshot_account_id'))

    op.drop_table('score_snapshot')
