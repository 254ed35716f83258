"""The ranking table: the fast path for a campaign's top accounts.

`topic_rank` holds one row per (scored account, topic) with what ranking filters on copied from
the account: weight, score, percentile, bot probability, rule flag, privacy block, birth year,
consent, followers and person. Two expression indexes order each topic's rows by
``weight * percentile`` and ``weight * score``, so the best eligible accounts of a topic are the
first rows of an index range scan, however popular the topic. Database triggers keep the table
in step with `account` and `account_topic` (score, import, review tooling, a test's UPDATE: any
writer), so no caller has to remember to.

`ranked_fast` answers `matching.ranked_shortlist` for "any" campaigns without language,
location or recent-perk filters (the usual ones); the rest take the general SQL in matching.
Results are the same: same relevance arithmetic, same tie-break, same one-per-person rule.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select, text, true
from sqlmodel import Session

from perks.models import ReviewDecision, TopicRank

topic_rank = TopicRank.__table__
review_decision = ReviewDecision.__table__

COLUMNS = ("account_id", "topic_id", "weight", "score", "percentile", "bot_probability",
           "rule_flagged", "blocked", "birth_year", "opted_in", "followers_count", "person_key")
# The account columns the copy depends on: an UPDATE of any of them refreshes the rows.
ACCOUNT_COLUMNS = ("influence_score", "influence_percentile", "bot_probability", "bot_flags",
                   "protected", "is_minor", "probable_minor", "consent", "birth_year",
                   "followers_count", "person_id")


def _account_values(a: str) -> list[str]:
    """SQL for the copied columns after (account_id, topic_id, weight), from account alias `a`."""
    return [
        f"{a}.influence_score", f"{a}.influence_percentile", f"{a}.bot_probability",
        # Same test as matching.has_rule_flags: NULL, JSON null and [] mean "no rule fired".
        f"({a}.bot_flags IS NOT NULL AND CAST({a}.bot_flags AS TEXT) NOT IN ('null', '[]'))",
        # matching.Conditions.privacy_rules, minus the birth-year test that depends on today.
        f"(COALESCE({a}.protected, FALSE) OR COALESCE({a}.is_minor, FALSE)"
        f" OR COALESCE({a}.probable_minor, FALSE) OR {a}.consent = 'opted_out')",
        f"{a}.birth_year", f"({a}.consent = 'opted_in')", f"{a}.followers_count",
        f"COALESCE({a}.person_id, -{a}.id)",
    ]


def _insert(select_list: list[str], source: str) -> str:
    return (f"INSERT INTO topic_rank ({', '.join(COLUMNS)}) "
            f"SELECT {', '.join(select_list)} {source}")


def source_select() -> str:
    """SQL for what topic_rank should hold, column for column: every scored account's topics."""
    return ("SELECT " + ", ".join(["account_topic.account_id", "account_topic.topic_id",  # noqa: S608
                                   "account_topic.weight", *_account_values("account")])
            + " FROM account_topic JOIN account ON account.id = account_topic.account_id "
            "WHERE account.influence_score IS NOT NULL")


def fill_statement() -> str:
    """Copy every scored account's topic rows (the migration runs this once)."""
    return f"INSERT INTO topic_rank ({', '.join(COLUMNS)}) {source_select()}"


def _set_from_new() -> str:
    return ", ".join(f"{col} = {value}" for col, value in
                     zip(COLUMNS[3:], _account_values("NEW"), strict=True))


def _topic_insert(row: str) -> str:
    return _insert([f"{row}.account_id", f"{row}.topic_id", f"{row}.weight",
                    *_account_values("account")],
                   f"FROM account WHERE account.id = {row}.account_id "
                   "AND account.influence_score IS NOT NULL")


def _account_insert() -> str:
    return _insert(["account_topic.account_id", "account_topic.topic_id", "account_topic.weight",
                    *_account_values("NEW")],
                   "FROM account_topic WHERE account_topic.account_id = NEW.id")


def trigger_statements(dialect: str) -> list[str]:
    """DDL for the triggers that keep topic_rank in step, for "sqlite" or "postgresql"."""
    # S608: every piece is a constant of this module; no value from outside reaches this DDL.
    columns = ", ".join(ACCOUNT_COLUMNS)
    delete_old = ("DELETE FROM topic_rank WHERE account_id = OLD.account_id "
                  "AND topic_id = OLD.topic_id")
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER topic_rank_account AFTER UPDATE OF {columns} ON account BEGIN "  # noqa: S608
            "DELETE FROM topic_rank WHERE account_id = NEW.id AND NEW.influence_score IS NULL; "
            f"UPDATE topic_rank SET {_set_from_new()} "
            "WHERE account_id = NEW.id AND NEW.influence_score IS NOT NULL; "
            f"{_account_insert()} AND NEW.influence_score IS NOT NULL "
            "AND OLD.influence_score IS NULL; END",
            f"CREATE TRIGGER topic_rank_topic_insert AFTER INSERT ON account_topic BEGIN "
            f"{_topic_insert('NEW')}; END",
            f"CREATE TRIGGER topic_rank_topic_delete AFTER DELETE ON account_topic BEGIN "
            f"{delete_old}; END",
            "CREATE TRIGGER topic_rank_topic_update AFTER UPDATE OF account_id, topic_id, weight "
            f"ON account_topic BEGIN {delete_old}; {_topic_insert('NEW')}; END",
        ]
    return [
        "CREATE FUNCTION topic_rank_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608
        "IF NEW.influence_score IS NULL THEN DELETE FROM topic_rank WHERE account_id = NEW.id; "
        f"ELSIF OLD.influence_score IS NULL THEN {_account_insert()}; "
        f"ELSE UPDATE topic_rank SET {_set_from_new()} WHERE account_id = NEW.id; "
        "END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER topic_rank_account AFTER UPDATE OF {columns} ON account "  # noqa: S608
        "FOR EACH ROW EXECUTE FUNCTION topic_rank_account()",
        "CREATE FUNCTION topic_rank_topic() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {delete_old}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_topic_insert('NEW')}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER topic_rank_topic AFTER INSERT OR DELETE OR UPDATE OF account_id, "
        "topic_id, weight ON account_topic FOR EACH ROW EXECUTE FUNCTION topic_rank_topic()",
    ]


def drop_trigger_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in (
            "topic_rank_account", "topic_rank_topic_insert", "topic_rank_topic_delete",
            "topic_rank_topic_update")]
    return ["DROP TRIGGER IF EXISTS topic_rank_account ON account",
            "DROP TRIGGER IF EXISTS topic_rank_topic ON account_topic",
            "DROP FUNCTION IF EXISTS topic_rank_account()",
            "DROP FUNCTION IF EXISTS topic_rank_topic()"]


def supports(cond: Any) -> bool:
    """Whether `ranked_fast` can answer this campaign (otherwise matching's general query)."""
    c = cond.campaign
    # topic_rank copies the account's own bot probability, not a brand's adapted one.
    return bool(c.topics and cond.topic_ids and c.topic_mode == "any" and not c.languages
                and not c.location_contains and not c.exclude_recent_days
                and not getattr(cond, "adapted", False))


@dataclass
class _Best:
    key: tuple[float, int]  # (-relevance, account_id): ascending is rank order
    person: int


def ranked_fast(session: Session, cond: Any, *, limit: int, offset: int = 0) -> list[Any]:
    """matching.ranked_shortlist for a `supports` campaign: each topic's best rows off its rank
    index (raw rows, no ORM objects), merged, one per person, ranked."""
    from perks.campaigns.matching import Ranked

    need = offset + limit
    if need <= 0:
        return []
    per_topic = need + 64
    while True:
        best, bound = _merged(session, cond, per_topic)
        ranked: list[Any] = []
        people: set[int] = set()
        for account_id, found in sorted(best.items(), key=lambda item: item[1].key):
            if bound is not None and found.key > bound:
                break  # past what every full topic list is complete for
            if cond.campaign.one_per_person:
                if found.person in people:
                    continue
                people.add(found.person)
            ranked.append(Ranked(account_id, -found.key[0], len(ranked) + 1))
            if len(ranked) == need:
                return ranked[offset:]
        if bound is None:  # every topic was read to its end
            return ranked[offset:]
        per_topic *= 4


def _merged(session: Session, cond: Any, per_topic: int):
    """Best key per account over the campaign's topics, and the key up to which that is exact
    (None: every topic's list was read whole)."""
    c = cond.campaign
    value = topic_rank.c.percentile if c.score_mode == "percentile" else topic_rank.c.score
    product = topic_rank.c.weight * value
    cleared = select(review_decision.c.account_id).where(
        review_decision.c.brand_id == c.brand_id, review_decision.c.decision == "genuine")
    filters = [
        topic_rank.c.weight >= c.min_topic_weight, value.is_not(None), value >= c.score_min,
        value <= c.score_max, topic_rank.c.blocked == false(),
        func.coalesce(topic_rank.c.birth_year, 0) <= cond.today.year - _minor_age(),
        or_(and_(or_(topic_rank.c.bot_probability.is_(None),
                     topic_rank.c.bot_probability < cond.threshold),
                 topic_rank.c.rule_flagged == false()),
            topic_rank.c.account_id.in_(cleared)),
    ]
    if c.opted_in_only:
        filters.append(topic_rank.c.opted_in == true())
    if c.followers_min is not None:
        filters.append(topic_rank.c.followers_count >= c.followers_min)
    if c.followers_max is not None:
        filters.append(topic_rank.c.followers_count <= c.followers_max)
    best: dict[int, _Best] = {}
    bound: tuple[float, int] | None = None
    for topic_id in dict.fromkeys(cond.topic_ids):
        rows = session.execute(
            select(topic_rank.c.account_id, product, topic_rank.c.person_key)
            .where(topic_rank.c.topic_id == topic_id, *filters)
            .order_by(product.desc(), topic_rank.c.account_id).limit(per_topic)).all()
        key: tuple[float, int] = (0.0, 0)
        for account_id, weighted, person in rows:
            # matching.ranked_query computes relevance as topic_weight * value / 100.0.
            key = (-(weighted / 100.0), account_id)
            found = best.get(account_id)
            if found is None or key < found.key:
                best[account_id] = _Best(key, person)
        if len(rows) == per_topic and (bound is None or key < bound):
            bound = key
    return best, bound


def _minor_age() -> int:
    from perks.campaigns.matching import MINOR_AGE

    return MINOR_AGE


def explain(session: Session, topic_id: int) -> list[str]:
    """EXPLAIN QUERY PLAN lines of a topic read (SQLite), for checking the index is used."""
    rows = session.execute(text(
        "EXPLAIN QUERY PLAN SELECT account_id FROM topic_rank WHERE topic_id = :t "
        "AND blocked = 0 ORDER BY weight * percentile DESC, account_id LIMIT 500"), {"t": topic_id})
    return [str(row[-1]) for row in rows]
