"""privacy: suppression list, removal requests, probable minors, opted-in-only campaigns

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30

Branches from 0003 beside the review stage's 0004; a merge revision joins them.
Stored accounts get `probable_minor` computed from their bios here, so the exclusion holds for
accounts imported before this revision too (perks.privacy.minors at the time of upgrade).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would rebuild account on SQLite and lose its expression
    # index on lower(screen_name); a constant server default is all SQLite needs here.
    op.add_column('account', sa.Column('probable_minor', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column('import_run', sa.Column('suppressed', sa.Integer(), nullable=False,
                                          server_default='0'))
    op.add_column('campaign', sa.Column('opted_in_only', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('campaign', sa.Column('export_bio_location', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.create_table('suppression',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_table('removal_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=30), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=True),
    sa.Column('handle_hash', sa.String(length=64), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('removal_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_request_client_hash'), ['client_hash'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_removal_request_created_at'), ['created_at'],
                              unique=False)
    _backfill_probable_minors()


def _backfill_probable_minors() -> None:
    from perks.privacy.minors import probable_minor

    connection = op.get_bind()
    account = sa.table('account', sa.column('id', sa.Integer),
                       sa.column('description', sa.Text), sa.column('observed_at', sa.DateTime),
                       sa.column('probable_minor', sa.Boolean))
    rows = connection.execute(sa.select(account.c.id, account.c.description,
                                        account.c.observed_at)
                              .where(account.c.description.is_not(None))).all()
    flagged = [{"i": id_} for id_, bio, seen in rows if probable_minor(bio, observed_at=seen)]
    if flagged:
        connection.execute(account.update().where(account.c.id == sa.bindparam("i"))
                           .values(probable_minor=True), flagged)


def downgrade() -> None:
    with op.batch_alter_table('removal_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removal_request_created_at'))
        batch_op.drop_index(batch_op.f('ix_removal_request_client_hash'))
        batch_op.drop_index(batch_op.f('ix_removal_request_status'))
    op.drop_table('removal_request')
    op.drop_table('suppression')
    # SQLite >= 3.35 drops columns in place; batch mode would lose the expression index.
    op.drop_column('campaign', 'export_bio_location')
    op.drop_column('campaign', 'opted_in_only')
    op.drop_column('import_run', 'suppressed')
    op.drop_column('account', 'probable_minor')
