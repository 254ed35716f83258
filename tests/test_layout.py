"""The package's shape: no import cycles, arrows down the flow, migrations free of live code,
and a command line that starts without the machine-learning stack."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import perks

PACKAGE = Path(perks.__file__).parent
MIGRATIONS = PACKAGE / "migrations" / "versions"
# Stages in flow order: each may import earlier ones, never a later one. (Shared modules such
# as models, db, accounts, auth and topics, and the adapters cli, web and bench, sit outside.)
FLOW = ["perks.privacy", "perks.importing", "perks.detection", "perks.scoring",
        "perks.campaigns", "perks.review"]
# Being removed by the campaign-core rewrite (issue 12, item 1); delete the entry with it.
KNOWN_CYCLES = [{"perks.campaigns.matching", "perks.campaigns.ranking"}]
ML_MODULES = ("sklearn", "scipy", "skops")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(target: str, modules: dict[str, Path]) -> str:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The perks modules `name` imports anywhere in its body (function-level imports too: a
    late import hides a cycle from Python, not from the design)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(_resolve(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                member = f"{base}.{alias.name}"
                found.add(member if member in modules else _resolve(base, modules))
    return {target for target in found if target.startswith("perks") and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()
            if ".migrations." not in name}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _stage(module: str) -> int | None:
    for position, stage in enumerate(FLOW):
        if module == stage or module.startswith(stage + "."):
            return position
    return None


def test_the_cycle_finder_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_cycles_between_perks_modules():
    graph = _graph()
    assert "perks.cli.setup" in graph["perks.cli"]  # the scan does see imports
    new = [sorted(c) for c in _cycles(graph) if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"


def test_no_stage_imports_a_later_one():
    later = sorted((module, target) for module, targets in _graph().items()
                   for target in targets
                   if _stage(module) is not None and _stage(target) is not None
                   and _stage(target) > _stage(module))
    assert not later, f"a stage imports a later one: {later}"


def test_migrations_import_no_perks_code():
    # A migration runs the DDL it was written with; live code may change, and then a fresh
    # database and an upgraded one would differ.
    offenders = []
    for path in sorted(MIGRATIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "perks"]
    assert len(list(MIGRATIONS.glob("*.py"))) >= 9
    assert not offenders


def test_triggers_of_a_migrated_database_are_what_ranking_maintains(session):
    # The triggers are frozen in migration 0007; a change to perks.campaigns.ranking's SQL
    # needs a migration of its own, or databases would keep the old triggers.
    from sqlalchemy import text

    from perks.campaigns.ranking import trigger_statements

    dialect = session.get_bind().dialect.name
    expected = trigger_statements(dialect)
    if dialect == "sqlite":
        stored = session.execute(text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'topic_rank%'"
        )).scalars().all()
        assert sorted(stored) == sorted(expected)
        return
    names = session.execute(text(
        "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'topic_rank%'")).scalars().all()
    assert sorted(names) == ["topic_rank_account", "topic_rank_topic"]
    bodies = session.execute(text(
        "SELECT prosrc FROM pg_proc WHERE proname LIKE 'topic_rank%'")).scalars().all()
    assert sorted(bodies) == sorted(s.split("$$")[1] for s in expected if "$$" in s)


def _loaded_after(code: str) -> dict[str, list[str]]:
    probe = (f"import json, sys\n{code}\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
             " | {m for m in sys.modules if m.startswith('perks.')})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=PACKAGE.parent)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return {"ml": [m for m in ML_MODULES if m in loaded], "all": loaded}


def test_the_command_line_starts_without_the_ml_stack():
    loaded = _loaded_after("import perks.cli\n"
                           "names = perks.cli.cli.list_commands(None)\n"
                           "assert 'campaign' in names and 'train' in names, names\n"
                           "[perks.cli.cli.get_command(None, n) for n in names]")
    assert loaded["ml"] == []
    # Nor the database layer: `perks --help` needs click alone.
    assert not {"flask", "sqlalchemy", "sqlmodel"} & set(loaded["all"])


def test_the_app_factory_does_not_load_the_detector(tmp_path):
    loaded = _loaded_after(
        "from perks import create_app\n"
        f"create_app({{'DATABASE_URL': 'sqlite://', 'INSTANCE_PATH': {str(tmp_path)!r},"
        " 'PERKS_ENV': 'testing'})")
    assert loaded["ml"] == []
    # The threshold policy and its vocabulary are light; the detector and its model are not.
    assert not {"perks.detection.detector", "perks.detection.model"} & set(loaded["all"])
    assert "flask" in loaded["all"]  # the probe did build the app


def test_the_migration_fast_path_agrees_with_alembic(tmp_path):
    # perks.db.migrate skips Alembic when the database is at the heads it reads from the files.
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from perks.db import alembic_config, make_engine, migrate, schema_heads, stored_revisions

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert schema_heads() == set(script.get_heads())
    assert stored_revisions(engine) == set()
    migrate(engine)
    assert stored_revisions(engine) == schema_heads()
    engine.dispose()
    # A database one revision behind: the fast path must not skip the last migration.
    from alembic import command

    behind = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    newest = script.get_revision(script.get_current_head())
    command.upgrade(alembic_config(behind), newest.down_revision)
    assert stored_revisions(behind) == {newest.down_revision}
    migrate(behind)
    assert stored_revisions(behind) == schema_heads()
    with behind.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine = behind
    engine.dispose()
