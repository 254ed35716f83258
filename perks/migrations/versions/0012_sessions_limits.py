"""sessions end, one rate limiter, removal requests sealed, one spelling per platform

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

- user.session_version: bumped on logout, password change and deactivation; a session or
  remember cookie minted under an older version no longer loads its user.
- rate_limit_hit replaces login_failure: one row per attempt under each key it counts against
  (login per email and address, per account, per address; removal per address, per handle and
  overall). Its rows are short-lived counters, so the old table's rows are not carried over.
- removal_request.handle / contact_email hold encrypted text now, which is longer.
- Accounts and removal requests stored as platform "x" become "twitter" (perks.platforms), so
  forget and removal find them; an "x" account whose id is also stored as twitter stays as it
  is rather than break the unique key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user", sa.Column("session_version", sa.Integer(), nullable=False,
                                    server_default="0"))
    op.create_table(
        "rate_limit_hit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rate_limit_hit_key_hash_at", "rate_limit_hit", ["key_hash", "at"])
    op.create_index("ix_rate_limit_hit_at", "rate_limit_hit", ["at"])
    op.drop_table("login_failure")
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce lengths
        op.alter_column("removal_request", "handle", type_=sa.String(length=1000))
        op.alter_column("removal_request", "contact_email", type_=sa.String(length=1000))
    op.execute(
        "UPDATE account SET platform = 'twitter' WHERE lower(trim(platform)) = 'x' AND NOT EXISTS"
        " (SELECT 1 FROM account AS other WHERE other.platform = 'twitter'"
        " AND other.platform_id = account.platform_id)")
    op.execute("UPDATE removal_request SET platform = 'twitter'"
               " WHERE lower(trim(platform)) = 'x'")


def downgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failure_key_hash", "login_failure", ["key_hash"])
    op.create_index("ix_login_failure_at", "login_failure", ["at"])
    op.drop_table("rate_limit_hit")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_version")
