"""The ranking table: the fast path for a campaign's top accounts.

`topic_rank` holds one row per (scored account, topic): the topic weight plus a copy of the
account columns the campaign rules read (perks.campaigns.rules.RANKING_COLUMNS), under the same
names. Two expression indexes order each topic's rows by ``weight * percentile`` and
``weight * score`` (rules.rank_product), so the best eligible accounts of a topic are the first
rows of an index range scan, however popular the topic. The indexes also carry the columns the
usual rules read (`COVERED`), so SQLite answers a topic read from the index alone, without a
table lookup per row (perks.accounts.rank_rows.index_statements; PostgreSQL takes them as
INCLUDE columns). Database
triggers keep the copy in step
with `account` and `account_topic` (score, import, review tooling, a test's UPDATE: any writer).
The triggers only copy columns: every rule is applied at query time from perks.campaigns.rules,
to this table exactly as to `account`, so the fast path and the general SQL cannot disagree.

The migration that creates the triggers carries their DDL as text (migrations import no live
code); tests check that text against `trigger_statements` here.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Integer, bindparam, select, text, union_all
from sqlmodel import Session

from perks.accounts.rank_rows import trigger_condition
from perks.campaigns import query_cache, rules
from perks.models import TopicRank

topic_rank = TopicRank.__table__
TOPIC_RANK = rules.Source(topic_rank, id_column="account_id")
COPIED = rules.RANKING_COLUMNS
COLUMNS = ("account_id", "topic_id", "weight", *COPIED)


def _insert(select_list: list[str], source: str) -> str:
    return (f"INSERT INTO topic_rank ({', '.join(COLUMNS)}) "
            f"SELECT {', '.join(select_list)} {source}")


def _copied(a: str) -> list[str]:
    return [f"{a}.{name}" for name in COPIED]


def source_select() -> str:
    """SQL for what topic_rank should hold, column for column: every scored account's topics."""
    return ("SELECT " + ", ".join(["account_topic.account_id", "account_topic.topic_id",  # noqa: S608
                                   "account_topic.weight", *_copied("account")])
            + " FROM account_topic JOIN account ON account.id = account_topic.account_id "
            "WHERE account.influence_score IS NOT NULL")


def fill_statement() -> str:
    """Copy every scored account's topic rows."""
    return f"INSERT INTO topic_rank ({', '.join(COLUMNS)}) {source_select()}"


def _set_from_new() -> str:
    return ", ".join(f"{name} = NEW.{name}" for name in COPIED)


def _topic_insert(row: str) -> str:
    return _insert([f"{row}.account_id", f"{row}.topic_id", f"{row}.weight",
                    *_copied("account")],
                   f"FROM account WHERE account.id = {row}.account_id "
                   "AND account.influence_score IS NOT NULL")


def _account_insert() -> str:
    return _insert(["account_topic.account_id", "account_topic.topic_id", "account_topic.weight",
                    *_copied("NEW")],
                   "FROM account_topic WHERE account_topic.account_id = NEW.id")


def trigger_statements(dialect: str) -> list[str]:
    """DDL for the triggers that keep topic_rank in step, for "sqlite" or "postgresql"."""
    # S608: every piece is a constant of this module; no value from outside reaches this DDL.
    columns = ", ".join(COPIED)
    delete_old = ("DELETE FROM topic_rank WHERE account_id = OLD.account_id "
                  "AND topic_id = OLD.topic_id")
    # Paused inside a bulk writer's transaction (perks.accounts.rank_rows).
    when = f"WHEN {trigger_condition(dialect)}" if dialect == "sqlite" \
        else f"WHEN ({trigger_condition(dialect)})"
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER topic_rank_account AFTER UPDATE OF {columns} ON account {when} BEGIN "  # noqa: S608
            "DELETE FROM topic_rank WHERE account_id = NEW.id AND NEW.influence_score IS NULL; "
            f"UPDATE topic_rank SET {_set_from_new()} "
            "WHERE account_id = NEW.id AND NEW.influence_score IS NOT NULL; "
            f"{_account_insert()} AND NEW.influence_score IS NOT NULL "
            "AND OLD.influence_score IS NULL; END",
            f"CREATE TRIGGER topic_rank_topic_insert AFTER INSERT ON account_topic {when} BEGIN "
            f"{_topic_insert('NEW')}; END",
            f"CREATE TRIGGER topic_rank_topic_delete AFTER DELETE ON account_topic {when} BEGIN "
            f"{delete_old}; END",
            "CREATE TRIGGER topic_rank_topic_update AFTER UPDATE OF account_id, topic_id, weight "
            f"ON account_topic {when} BEGIN {delete_old}; {_topic_insert('NEW')}; END",
        ]
    return [
        "CREATE FUNCTION topic_rank_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608
        "IF NEW.influence_score IS NULL THEN DELETE FROM topic_rank WHERE account_id = NEW.id; "
        f"ELSIF OLD.influence_score IS NULL THEN {_account_insert()}; "
        f"ELSE UPDATE topic_rank SET {_set_from_new()} WHERE account_id = NEW.id; "
        "END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER topic_rank_account AFTER UPDATE OF {columns} ON account "  # noqa: S608
        f"FOR EACH ROW {when} EXECUTE FUNCTION topic_rank_account()",
        "CREATE FUNCTION topic_rank_topic() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {delete_old}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_topic_insert('NEW')}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER topic_rank_topic AFTER INSERT OR DELETE OR UPDATE OF account_id, "
        f"topic_id, weight ON account_topic FOR EACH ROW {when} "
        "EXECUTE FUNCTION topic_rank_topic()",
    ]


def supports(ctx: rules.Context) -> bool:
    """Whether `ranked_fast` can answer this campaign (otherwise matching's general query):
    an "any" campaign with topics whose active rules read only columns the table copies."""
    c = ctx.campaign
    # The table copies the account's own bot probability, not a brand's adapted one.
    return bool(c.topics and ctx.topic_ids and c.topic_mode == "any" and not ctx.adapted and all(
        set(rule.columns) <= set(COPIED) for rule in rules.active_rules(c)))


def ranked_fast(session: Session, ctx: rules.Context, *, limit: int,
                offset: int = 0) -> list[tuple[int, float, int]]:
    """(account_id, relevance, rank) for a `supports` campaign: each topic's best rows off its
    rank index (raw rows, no ORM objects), merged, one per person, ranked."""
    need = offset + limit
    if need <= 0:
        return []
    per_topic = need + 64
    one_per_person = ctx.campaign.one_per_person
    while True:
        best, bound = _merged(session, ctx, per_topic)
        ranked: list[tuple[int, float, int]] = []
        people: set[int] = set()
        # (-relevance, account_id, person) tuples: ascending is rank order.
        for neg_relevance, account_id, person in sorted(best.values()):
            if bound is not None and (neg_relevance, account_id) > bound:
                break  # past what every full topic list is complete for
            if one_per_person:
                if person in people:
                    continue
                people.add(person)
            ranked.append((account_id, -neg_relevance, len(ranked) + 1))
            if len(ranked) == need:
                return ranked[offset:]
        if bound is None:  # every topic was read to its end
            return ranked[offset:]
        per_topic *= 4


def _topic_reads(ctx: rules.Context):
    """One statement reading each of the campaign's topics off its rank index, best first, at
    most `:per_topic` rows each: (topic_id, account_id, weight × value, person key). Built from
    the rules once per campaign and context (query_cache.statement), not on every call."""
    c = ctx.campaign
    product = rules.rank_product(topic_rank.c.weight, TOPIC_RANK.value(c))
    filters = [rules.topic_weight_passes(topic_rank.c.weight, c),
               rules.in_audience(TOPIC_RANK, ctx), rules.passes(TOPIC_RANK, ctx)]
    per_topic = bindparam("per_topic", type_=Integer)
    reads = [select(topic_rank.c.topic_id, topic_rank.c.account_id, product.label("product"),
                    TOPIC_RANK.person_key().label("person"))
             .where(topic_rank.c.topic_id == topic_id, *filters)
             .order_by(product.desc(), topic_rank.c.account_id).limit(per_topic)
             .subquery(f"topic_{n}")
             for n, topic_id in enumerate(dict.fromkeys(ctx.topic_ids))]
    return union_all(*[select(*read.c) for read in reads]) if len(reads) > 1 \
        else select(*reads[0].c)


@contextmanager
def _index_walk(session: Session) -> Iterator[None]:
    """On PostgreSQL, plan the topic reads as walks down the rank index, best first, stopping at
    the limit. The planner multiplies the rules' selectivities as if independent, expects a
    handful of a topic's rows to pass, and so reads them all through a bitmap scan and sorts
    them: at 1M accounts 53 ms for the rare pair against a few ms walked. Bitmap scans are
    turned off for this statement only (a transaction-local setting, put back after), and so
    is JIT compilation: the walk's cost estimate (the whole topic) passes jit_above_cost, and at
    10M compiling took 10.9 ms of the rare pair's 12.4 ms for a walk of 1.4 ms."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    connection = session.connection()
    before = connection.exec_driver_sql(
        "SELECT current_setting('enable_bitmapscan'), current_setting('jit'), "
        "set_config('enable_bitmapscan', 'off', true), set_config('jit', 'off', true)").one()
    try:
        yield
    finally:
        connection.exec_driver_sql(
            "SELECT set_config('enable_bitmapscan', %(bitmap)s, true), "
            "set_config('jit', %(jit)s, true)", {"bitmap": before[0], "jit": before[1]})


def _merged(session: Session, ctx: rules.Context, per_topic: int):
    """Best key per account over the campaign's topics, and the key up to which that is exact
    (None: every topic's list was read whole)."""
    reads = query_cache.statement(("topic_rank", query_cache.context_key(ctx)),
                                  lambda: _topic_reads(ctx))
    rows_by_topic: dict[int, list] = {topic_id: [] for topic_id in ctx.topic_ids}
    with _index_walk(session):
        found = session.execute(reads, {"per_topic": per_topic}).all()
    for row in found:
        rows_by_topic[row[0]].append(row)
    best: dict[int, tuple[float, int, int]] = {}
    bound: tuple[float, int] | None = None
    relevance = rules.relevance_from_product
    for rows in rows_by_topic.values():
        key: tuple[float, int] = (0.0, 0)
        for _topic, account_id, weighted, person in rows:
            key = (-relevance(weighted), account_id)
            found = best.get(account_id)
            if found is None or key < found[:2]:
                best[account_id] = (*key, person)
        if len(rows) == per_topic and (bound is None or key < bound):
            bound = key
    return best, bound


def explain(session: Session, topic_id: int) -> list[str]:
    """EXPLAIN QUERY PLAN lines of a topic read (SQLite), for checking the index is used."""
    rows = session.execute(text(
        "EXPLAIN QUERY PLAN SELECT account_id FROM topic_rank WHERE topic_id = :t "
        "AND protected = 0 ORDER BY weight * influence_percentile DESC, account_id LIMIT 500"),
        {"t": topic_id})
    return [str(row[-1]) for row in rows]


def rebuild(session: Session) -> None:
    """Refill the table from its source (tests and repairs; the triggers keep it otherwise)."""
    session.execute(topic_rank.delete())
    session.execute(text(fill_statement()))
