"""Inferred account topics: written next to the topics an import gave, never over them."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Text, bindparam, cast, delete, insert, select, update
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from perks.models import AccountTopic, TaxonomyState, utcnow
from perks.topics import TopicDef, TopicInferrer, fingerprint

TOPIC = AccountTopic.__table__


class PreserialisedJSON(TypeDecorator):
    """A JSON column value we serialised ourselves: SQLAlchemy's JSON binding halves the write
    rate of these executemany updates, and a plain String bind is refused by PostgreSQL."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Any) -> None:
        return None


@dataclass
class TopicCounts:
    rows: int = 0  # inferred rows the accounts now have
    accounts: int = 0  # accounts with at least one inferred topic
    imported_kept: int = 0  # inferred matches skipped because the import gave that topic


def write_inferred_topics(session: Session, *, inferrer: TopicInferrer,
                          topic_ids: dict[str, int], account_ids: Sequence[int],
                          texts: Sequence[str]) -> TopicCounts:
    """Infer topics for a run of accounts (ids ascending, every account between the first and
    the last id included) and bring their inferred rows up to date; imported rows stay.

    Only differences are written, so re-scoring an unchanged pool writes no topic rows.
    """
    counts = TopicCounts()
    matches = inferrer.infer(texts)
    # Evidence is compared as JSON text: decoding every stored row would cost more than inferring.
    stored = session.execute(
        select(TOPIC.c.account_id, TOPIC.c.topic_id, TOPIC.c.weight,
               cast(TOPIC.c.evidence, Text), TOPIC.c.source)
        .where(TOPIC.c.account_id.between(account_ids[0], account_ids[-1]))).all()
    imported = {(a, t) for a, t, _w, _e, source in stored if source == "imported"}
    inferred = {(a, t): (w, e) for a, t, w, e, source in stored if source == "inferred"}
    wanted: dict[tuple[int, int], tuple[float, str]] = {}
    for account_id, found in zip(account_ids, matches, strict=True):
        given = False
        for match in found:
            key = (account_id, topic_ids[match.slug])
            if key in imported:
                counts.imported_kept += 1
                continue
            wanted[key] = (match.weight, json.dumps(list(match.evidence)))
            given = True
        counts.accounts += given
    gone = [{"b_account": a, "b_topic": t} for a, t in inferred.keys() - wanted.keys()]
    changed, new = [], []
    for (account_id, topic_id), (weight, evidence) in wanted.items():
        before = inferred.get((account_id, topic_id))
        if before is None:
            new.append({"b_account": account_id, "b_topic": topic_id, "b_weight": weight,
                        "b_evidence": evidence})
        elif before != (weight, evidence):
            changed.append({"b_account": account_id, "b_topic": topic_id, "b_weight": weight,
                            "b_evidence": evidence})
    by_key = (TOPIC.c.account_id == bindparam("b_account")) & (
        TOPIC.c.topic_id == bindparam("b_topic"))
    if gone:
        session.execute(delete(TOPIC).where(by_key), gone)
    evidence = bindparam("b_evidence", type_=PreserialisedJSON)
    if changed:
        session.execute(update(TOPIC).where(by_key).values(
            weight=bindparam("b_weight"), evidence=evidence), changed)
    if new:
        session.execute(insert(TOPIC).values(
            account_id=bindparam("b_account"), topic_id=bindparam("b_topic"),
            weight=bindparam("b_weight"), source="inferred", evidence=evidence), new)
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
