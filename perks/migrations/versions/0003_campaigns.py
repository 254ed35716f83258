"""campaigns and their shortlists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('perk_description', sa.String(length=2000), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('perk_value', sa.Float(), nullable=True),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('topic_mode', sa.String(length=10), nullable=False),
    sa.Column('min_topic_weight', sa.Float(), nullable=False),
    sa.Column('score_mode', sa.String(length=20), nullable=False),
    sa.Column('score_min', sa.Float(), nullable=False),
    sa.Column('score_max', sa.Float(), nullable=False),
    sa.Column('followers_min', sa.Integer(), nullable=True),
    sa.Column('followers_max', sa.Integer(), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('location_contains', sa.String(length=100), nullable=True),
    sa.Column('bot_strictness', sa.String(length=20), nullable=False),
    sa.Column('exclude_recent_days', sa.Integer(), nullable=True),
    sa.Column('one_per_person', sa.Boolean(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('brand_id', 'name', name='uq_campaign_brand_name')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_brand_id'), ['brand_id'], unique=False)

    op.create_table('shortlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('relevance', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'account_id', name='uq_shortlist_campaign_account')
    )
    with op.batch_alter_table('shortlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_entry_account_id'), ['account_id'],
                              unique=False)
        batch_op.create_index('ix_shortlist_campaign_status_rank',
                              ['campaign_id', 'status', 'rank'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shortlist_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_shortlist_campaign_status_rank')
        batch_op.drop_index(batch_op.f('ix_shortlist_entry_account_id'))
    op.drop_table('shortlist_entry')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_brand_id'))
    op.drop_table('campaign')
