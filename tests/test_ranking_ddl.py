"""The ranking table's triggers: the migration that created them carries their DDL as text
(migrations import no live code), and that text must be what perks.campaigns.ranking builds
from the rules today. When a rule starts reading a new column, this fails until a new
migration recreates the triggers."""

import importlib.util
from pathlib import Path

import pytest

from perks.accounts import rank_rows
from perks.campaigns import ranking

VERSIONS = Path(__file__).resolve().parent.parent / "perks" / "migrations" / "versions"


def _latest_topic_rank_migration():
    # The newest revision that (re)creates the ranking triggers.
    paths = sorted(p for p in VERSIONS.glob("*.py") if "TRIGGERS = {" in p.read_text())
    spec = importlib.util.spec_from_file_location("ranking_migration", paths[-1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_migrations_trigger_ddl_is_what_the_rules_build(dialect):
    migration = _latest_topic_rank_migration()
    assert migration.TRIGGERS[dialect] == ranking.trigger_statements(dialect)
    assert migration.FILL == ranking.fill_statement()


def _latest_index_migration():
    paths = sorted(p for p in VERSIONS.glob("*.py") if "INDEXES = {" in p.read_text())
    spec = importlib.util.spec_from_file_location("index_migration", paths[-1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_migrations_rank_indexes_are_what_ranking_builds(dialect):
    # When a rule starts reading a new column, the indexes must carry it: a new migration.
    assert _latest_index_migration().INDEXES[dialect] == rank_rows.index_statements(dialect)
