"""topic_rank's rank indexes carry the columns the rules read (no table lookup per row)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

A shortlist read walks a topic's rows off one rank index, best first, and tests the campaign
rules on each. With the rule columns only in the table, every row walked cost a table lookup,
which made the shortlist several times slower than the index walk itself. The two indexes are
recreated with those columns (SQLite: trailing key columns; PostgreSQL: INCLUDE, as its JSON
type has no b-tree ordering). The DDL is frozen here (a migration imports no live code);
tests/test_ranking_ddl.py checks it against perks.campaigns.ranking.index_statements.

The funnel's in-process cache (perks.campaigns.query_cache) needs no schema: it is keyed by
the database's own change counters.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COVERED = ("weight, influence_score, influence_percentile, person_id, followers_count, lang, "
            "protected, is_minor, birth_year, probable_minor, consent, bot_probability, "
            "bot_flags, shared")
_KEYS = {"ix_topic_rank_percentile": "topic_id, (weight * influence_percentile) DESC, account_id",
         "ix_topic_rank_score": "topic_id, (weight * influence_score) DESC, account_id"}
INDEXES = {
    "sqlite": [f"CREATE INDEX {name} ON topic_rank ({key}, {_COVERED})"
               for name, key in _KEYS.items()],
    "postgresql": [f"CREATE INDEX {name} ON topic_rank ({key}) INCLUDE ({_COVERED})"
                   for name, key in _KEYS.items()],
}
OLD_INDEXES = [f"CREATE INDEX {name} ON topic_rank ({key})" for name, key in _KEYS.items()]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in _KEYS:
        op.drop_index(name, table_name="topic_rank")
    for statement in INDEXES[dialect]:
        op.execute(statement)


def downgrade() -> None:
    for name in _KEYS:
        op.drop_index(name, table_name="topic_rank")
    for statement in OLD_INDEXES:
        op.execute(statement)
