"""shortlist_entry.decided_by: who approved or dropped an entry, for the fulfilment export

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

One nullable column, added in place on both engines: SQLite's own ALTER TABLE accepts a
REFERENCES clause on a new nullable column, so no batch copy of the table is needed (a copy
would reflect account too and trip over its expression index). Entries decided before this
revision keep an empty "approved by".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE shortlist_entry ADD COLUMN decided_by INTEGER '
                   'REFERENCES "user" (id)')
        return
    op.add_column("shortlist_entry", sa.Column("decided_by", sa.Integer(), nullable=True))
    op.create_foreign_key("fk_shortlist_decided_by", "shortlist_entry", "user",
                          ["decided_by"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_shortlist_decided_by", "shortlist_entry", type_="foreignkey")
    op.drop_column("shortlist_entry", "decided_by")
