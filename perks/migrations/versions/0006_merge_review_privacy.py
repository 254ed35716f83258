"""Merge the review (0004) and privacy (0005) branches, which both grew from 0003.

Revision ID: 0006
Revises: 0004, 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
