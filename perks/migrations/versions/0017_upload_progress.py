"""import_run: progress per committed batch and the columns of a web upload

Revision ID: 0017
Revises: 0016 (brand lists)
Create Date: 2026-12-02

Added nullable columns (rows_read with a default) only: nothing existing is rewritten. Plain
ADD COLUMN, no batch rebuild: import_run is the parent of account and import_undo.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_run", sa.Column("rows_read", sa.Integer(), nullable=False,
                                          server_default="0"))
    op.add_column("import_run", sa.Column("progress_at", sa.DateTime(timezone=True),
                                          nullable=True))
    for name, parent in (("brand_id", "brand"), ("user_id", "user")):
        if op.get_bind().dialect.name == "sqlite":
            # SQLite takes a foreign key on ADD COLUMN inline only (Alembic would rebuild).
            op.execute(f'ALTER TABLE import_run ADD COLUMN {name} INTEGER '
                       f'REFERENCES "{parent}" (id)')
        else:
            op.add_column("import_run", sa.Column(name, sa.Integer(),
                                                  sa.ForeignKey(f"{parent}.id"), nullable=True))
    op.add_column("import_run", sa.Column("upload_name", sa.String(length=255), nullable=True))
    op.add_column("import_run", sa.Column("list_name", sa.String(length=200), nullable=True))
    op.add_column("import_run", sa.Column("mapping", sa.JSON(), nullable=True))
    op.add_column("import_run", sa.Column("observed_at", sa.DateTime(timezone=True),
                                          nullable=True))
    op.create_index("ix_import_run_brand_id", "import_run", ["brand_id"])


def downgrade() -> None:
    op.drop_index("ix_import_run_brand_id", table_name="import_run")
    with op.batch_alter_table("import_run") as batch_op:
        for name in ("observed_at", "mapping", "list_name", "upload_name", "user_id",
                     "brand_id", "progress_at", "rows_read"):
            batch_op.drop_column(name)
