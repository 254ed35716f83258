"""Inferred account topics: written next to the topics an import gave, never over them."""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Text, cast, select
from sqlmodel import Session

from perks.models import AccountTopic, TaxonomyState, utcnow
from perks.scoring.bulk import Statements
from perks.topics import TopicDef, TopicInferrer, fingerprint

TOPIC = AccountTopic.__table__


@dataclass
class TopicCounts:
    rows: int = 0  # inferred rows the accounts now have
    accounts: int = 0  # accounts with at least one inferred topic
    imported_kept: int = 0  # inferred matches skipped because the import gave that topic


def write_inferred_topics(session: Session, *, inferrer: TopicInferrer,
                          topic_ids: dict[str, int], account_ids: Sequence[int],
                          texts: Sequence[str]) -> TopicCounts:
    """Infer topics for a run of accounts (ids ascending) and bring their inferred rows up to
    date; imported rows stay, and so do the rows of accounts between them that are not in
    `account_ids` (a run that skips unchanged accounts passes only the others).

    Only differences are written, so re-scoring an unchanged pool writes no topic rows.
    """
    counts = TopicCounts()
    if not len(account_ids):
        return counts
    matches = inferrer.infer(texts)
    # Evidence is compared as JSON text: decoding every stored row would cost more than inferring.
    stored = session.connection().execute(
        select(TOPIC.c.account_id, TOPIC.c.topic_id, TOPIC.c.weight,
               cast(TOPIC.c.evidence, Text), TOPIC.c.source)
        .where(TOPIC.c.account_id.between(account_ids[0], account_ids[-1]))).all()
    if len(account_ids) != account_ids[-1] - account_ids[0] + 1:  # not every id in the range
        wanted_ids = set(account_ids)
        stored = [row for row in stored if row[0] in wanted_ids]
    imported = {(a, t) for a, t, _w, _e, source in stored if source == "imported"}
    inferred = {(a, t): (w, e) for a, t, w, e, source in stored if source == "inferred"}
    wanted: dict[tuple[int, int], tuple[float, str]] = {}
    encoded: dict[tuple[str, ...], str] = {}  # the same few evidence lists recur: encode once
    for account_id, found in zip(account_ids, matches, strict=True):
        given = False
        for slug, weight, evidence in found:
            key = (account_id, topic_ids[slug])
            if key in imported:
                counts.imported_kept += 1
                continue
            text = encoded.get(evidence)
            if text is None:
                text = encoded[evidence] = json.dumps(list(evidence))
            wanted[key] = (weight, text)
            given = True
        counts.accounts += given
    gone = [key for key in inferred.keys() - wanted.keys()]
    changed, new = [], []
    for (account_id, topic_id), (weight, evidence) in wanted.items():
        before = inferred.get((account_id, topic_id))
        if before is None:
            new.append((account_id, topic_id, weight, "inferred", evidence))
        elif before != (weight, evidence):
            changed.append((weight, evidence, account_id, topic_id))
    sql = Statements(session)
    value, json_value = sql.value, sql.json
    by_key = f"account_id = {value} AND topic_id = {value}"
    # Placeholders only are formatted into these statements.
    sql.run_many(f"DELETE FROM account_topic WHERE {by_key}", gone)  # noqa: S608
    sql.run_many(f"UPDATE account_topic SET weight = {value}, evidence = {json_value} "  # noqa: S608
                 f"WHERE {by_key}", changed)
    sql.insert_rows("account_topic", ("account_id", "topic_id", "weight", "source", "evidence"),
                    new)
    counts.rows = len(wanted)
    return counts


def stored_taxonomy(session: Session) -> TaxonomyState | None:
    """The record of the taxonomy the stored inferred topics came from (None: never scored)."""
    return session.get(TaxonomyState, 1)


def record_taxonomy(session: Session, taxonomy: Sequence[TopicDef]) -> bool | None:
    """Note that inferred topics now come from ``taxonomy``; True when it differs from the one
    recorded before, False when it is the same, None when none was recorded."""
    mark = fingerprint(taxonomy)
    state = stored_taxonomy(session)
    changed = None if state is None else state.fingerprint != mark
    if state is None:
        state = TaxonomyState(id=1, fingerprint=mark, topics=0, keywords=0)
    state.fingerprint, state.topics = mark, len(taxonomy)
    state.keywords = sum(len(topic.keywords) for topic in taxonomy)
    state.inferred_at = utcnow()
    session.add(state)
    return changed


def topic_text(description: str | None, post_text: str | None) -> str:
    """The text topics are inferred from: the bio, then the posts. (The display name and the
    handle were tried and left out: on the labelled bios they added no recall and cost
    precision, "Uncle Music" being no musician; docs/topics.md.)"""
    return "\n".join(text for text in (description, post_text) if text)
