"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('brand',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('import_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_file', sa.String(length=1000), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.String(), nullable=True),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=30), nullable=False),
    sa.Column('platform_id', sa.String(length=64), nullable=False),
    sa.Column('screen_name', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('lang', sa.String(length=40), nullable=True),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('followers_count', sa.Integer(), nullable=False),
    sa.Column('friends_count', sa.Integer(), nullable=False),
    sa.Column('statuses_count', sa.Integer(), nullable=False),
    sa.Column('favourites_count', sa.Integer(), nullable=False),
    sa.Column('listed_count', sa.Integer(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('default_profile', sa.Boolean(), nullable=False),
    sa.Column('default_profile_image', sa.Boolean(), nullable=False),
    sa.Column('geo_enabled', sa.Boolean(), nullable=False),
    sa.Column('profile_use_background_image', sa.Boolean(), nullable=True),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_file', sa.String(length=1000), nullable=True),
    sa.Column('import_run_id', sa.Integer(), nullable=True),
    sa.Column('post_text', sa.String(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('is_minor', sa.Boolean(), nullable=True),
    sa.Column('consent', sa.String(length=20), nullable=False),
    sa.Column('consent_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('external_score', sa.Float(), nullable=True),
    sa.Column('posts_per_day', sa.Float(), nullable=True),
    sa.Column('retweet_share', sa.Float(), nullable=True),
    sa.Column('reply_share', sa.Float(), nullable=True),
    sa.Column('url_share', sa.Float(), nullable=True),
    sa.Column('automation_share', sa.Float(), nullable=True),
    sa.Column('distinct_sources', sa.Integer(), nullable=True),
    sa.Column('interval_regularity', sa.Float(), nullable=True),
    sa.Column('duplicate_text_share', sa.Float(), nullable=True),
    sa.Column('influence_score', sa.Float(), nullable=True),
    sa.Column('influence_percentile', sa.Float(), nullable=True),
    sa.Column('score_components', sa.JSON(), nullable=True),
    sa.Column('score_version', sa.String(length=40), nullable=True),
    sa.Column('score_confidence', sa.String(length=40), nullable=True),
    sa.Column('bot_probability', sa.Float(), nullable=True),
    sa.Column('bot_reasons', sa.JSON(), nullable=True),
    sa.Column('bot_model_version', sa.String(length=40), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_run_id'], ['import_run.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'platform_id', name='uq_account_platform_id')
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_person_id'), ['person_id'], unique=False)
    # Case-insensitive handle lookups (search, `perks account HANDLE`); autogenerate cannot see it.
    op.create_index('ix_account_handle', 'account', [sa.text('lower(screen_name)')], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=400), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_brand_id'), ['brand_id'], unique=False)

    op.create_table('account_topic',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], ),
    sa.PrimaryKeyConstraint('account_id', 'topic_id')
    )
    with op.batch_alter_table('account_topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_topic_topic_id'), ['topic_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('account_topic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_topic_topic_id'))

    op.drop_table('account_topic')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_brand_id'))

    op.drop_table('user')
    op.drop_index('ix_account_handle', table_name='account')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_person_id'))

    op.drop_table('account')
    op.drop_table('topic')
    op.drop_table('person')
    op.drop_table('import_run')
    op.drop_table('brand')
