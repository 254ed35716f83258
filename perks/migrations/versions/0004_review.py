"""review decisions, their audit trail, and the rule flags on accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would rebuild account on SQLite and lose its expression
    # index on lower(screen_name).
    op.add_column('account', sa.Column('bot_flags', sa.JSON(), nullable=True))

    op.create_table('review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('brand_id', 'account_id', name='uq_review_brand_account')
    )
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decision_account_id'), ['account_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_review_decision_brand_id'), ['brand_id'],
                              unique=False)

    op.create_table('review_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('account_label', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('before', sa.String(length=20), nullable=True),
    sa.Column('after', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('model_version', sa.String(length=40), nullable=True),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_audit_account_id'), ['account_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_review_audit_brand_id'), ['brand_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_audit_brand_id'))
        batch_op.drop_index(batch_op.f('ix_review_audit_account_id'))
    op.drop_table('review_audit')
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decision_brand_id'))
        batch_op.drop_index(batch_op.f('ix_review_decision_account_id'))
    op.drop_table('review_decision')
    op.drop_column('account', 'bot_flags')  # SQLite 3.35+ drops a column in place
