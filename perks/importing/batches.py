"""The import's batch writer: collects clean records and upserts them `BATCH_SIZE` at a time,
each batch its own short transaction with its undo record (perks.importing.undo)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, false, insert, select, text, update
from sqlmodel import Session

from perks.accounts import topic_ids_by_slug
from perks.accounts.lists import add_members
from perks.importing.records import RowError
from perks.importing.writes import insert_accounts
from perks.models import Account, AccountTopic, ImportRun, ImportUndo, Person, utcnow
from perks.topics import unknown_slugs_message

BATCH_SIZE = 2000
ANALYZE_AT_BATCHES = {5, 25, 125, 625}  # 10k, 50k, 250k, 1.25M rows
ACCOUNT = Account.__table__


@dataclass
class ImportResult:
    source: str
    file_format: str = ""
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    suppressed: int = 0  # on the suppression list: skipped, never stored (perks.privacy)
    seconds: float = 0.0
    rejects_path: str | None = None
    warnings: list[str] = field(default_factory=list)
    import_run_id: int | None = None

    @property
    def rows_read(self) -> int:
        """Records counted so far (every record read ends in exactly one count)."""
        return (self.imported + self.updated + self.unchanged + self.rejected
                + self.suppressed)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


class BatchWriter:
    """Collects clean records and upserts them a batch at a time."""

    def __init__(self, session: Session, *, run_id: int | None, source_name: str,
                 result: ImportResult, list_id: int | None = None):
        self.session = session
        self.list_id = list_id
        self.run_id = run_id
        self.source_name = source_name
        self.result = result
        self.topic_ids = topic_ids_by_slug(session)
        self.pending: dict[tuple[str, str], dict[str, Any]] = {}
        self.batches = 0

    def check_topics(self, record: dict[str, Any]) -> None:
        if not record["topics"]:
            return
        unknown = sorted(set(record["topics"]) - self.topic_ids.keys())
        if unknown:
            raise RowError("topics", unknown_slugs_message(unknown[:5], self.topic_ids.keys()))

    def add(self, record: dict[str, Any]) -> None:
        key = (record["platform"], record["platform_id"])
        earlier = self.pending.get(key)
        if earlier is not None:
            # The same account twice in one file: keep the newer observation.
            self.result.unchanged += 1
            if earlier["observed_at"] > record["observed_at"]:
                return
        self.pending[key] = record
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = list(self.pending.values()), {}
        self.batches += 1
        if self.batches in ANALYZE_AT_BATCHES and self.session.get_bind().dialect.name != "sqlite":
            # PostgreSQL plans the lookup of stored ids from statistics taken when the table
            # was small; inside one big transaction autovacuum never refreshes them, the
            # lookup turns into a sequential scan and a 1M import goes quadratic.
            self.session.execute(text("ANALYZE account"))
        person_ids = self._person_ids({r["person_key"] for r in batch if r["person_key"]})
        stored = self._stored(batch)
        now = utcnow()
        inserts, updates, unchanged = [], [], []
        # A list import leaves whether a stored account is shared alone; a shared one shares it.
        shared = {} if self.list_id else {"shared": True}
        for record in batch:
            known = stored.get((record["platform"], record["platform_id"]))
            if known is None:
                inserts.append(record)
            elif record["observed_at"] >= known[1]:
                row = {k: v for k, v in record.items() if k not in ("topics", "person_key")}
                row.update(person_id=person_ids.get(record["person_key"]),
                           source_file=self.source_name, import_run_id=self.run_id,
                           updated_at=now, id=known[0], **shared)
                updates.append(row)
            else:
                self.result.unchanged += 1
                unchanged.append(known[0])
                record["topics"] = None  # an old observation does not replace topics either
        if inserts:
            insert_accounts(self.session, inserts, person_ids, {
                "source_file": self.source_name, "import_run_id": self.run_id,
                "updated_at": now, "first_imported_at": now, "shared": not self.list_id})
        if updates:
            self._keep_for_undo(updates, [r for r in batch if r["topics"]])
            self.session.execute(update(Account), updates)
        self.result.imported += len(inserts)
        self.result.updated += len(updates)
        self._replace_imported_topics([r for r in batch if r["topics"]])
        if self.list_id:
            add_members(self.session, list_id=self.list_id, import_run_id=self.run_id,
                        account_ids=[i for i, _seen in self._stored(batch).values()])
        elif unchanged:
            self._share(unchanged)
        self._record_progress()
        self.session.commit()  # one short transaction per batch: the write lock is let go

    def _share(self, account_ids: list[int]) -> None:
        """Older observations arriving in the shared pool still share a list-only account."""
        ids = self.session.execute(select(ACCOUNT.c.id).where(
            ACCOUNT.c.id.in_(account_ids), ACCOUNT.c.shared.is_(false()))).scalars().all()
        if ids:
            self.session.execute(insert(ImportUndo), [
                {"import_run_id": self.run_id, "account_id": i, "before": {"shared": False}}
                for i in ids])
            self.session.execute(update(ACCOUNT).where(ACCOUNT.c.id.in_(ids)).values(shared=True))

    def _record_progress(self) -> None:
        # In the batch's own transaction, so the counts a page shows are the rows committed.
        counts = {name: getattr(self.result, name) for name in (
            "imported", "updated", "unchanged", "rejected", "suppressed", "rows_read")}
        self.session.execute(update(ImportRun).where(ImportRun.id == self.run_id)
                             .values(**counts, progress_at=utcnow()))

    def _keep_for_undo(self, updates: list[dict[str, Any]],
                       with_topics: list[dict[str, Any]]) -> None:
        """Record the values the update will overwrite (and imported topics it replaces)."""
        names = [n for n in updates[0] if n != "id"]
        ids = [row["id"] for row in updates]
        old = {row[0]: row[1:] for row in self.session.execute(
            select(ACCOUNT.c.id, *[ACCOUNT.c[n] for n in names]).where(ACCOUNT.c.id.in_(ids)))}
        replaced = {(r["platform"], r["platform_id"]) for r in with_topics}
        topics: dict[int, list[Any]] = {}
        if replaced:
            topics = {row["id"]: [] for row in updates
                      if (row["platform"], row["platform_id"]) in replaced}
            for account_id, topic_id, weight, evidence in self.session.execute(
                    select(AccountTopic.account_id, AccountTopic.topic_id, AccountTopic.weight,
                           AccountTopic.evidence).where(AccountTopic.account_id.in_(topics),
                                                        AccountTopic.source == "imported")):
                topics[account_id].append([topic_id, weight, evidence])
        self.session.execute(insert(ImportUndo), [
            {"import_run_id": self.run_id, "account_id": account_id,
             "before": {**{n: (v.isoformat() if isinstance(v, datetime) else v)
                           for n, v in zip(names, values, strict=True)},
                        "topics": topics.get(account_id)}}
            for account_id, values in old.items()])

    def _stored(self, batch: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, datetime]]:
        stored = {}
        for platform in {r["platform"] for r in batch}:
            ids = [r["platform_id"] for r in batch if r["platform"] == platform]
            rows = self.session.execute(
                select(Account.id, Account.platform_id, Account.observed_at)
                .where(Account.platform == platform, Account.platform_id.in_(ids)))
            stored.update({(platform, pid): (id_, seen) for id_, pid, seen in rows})
        return stored

    def _person_ids(self, keys: set[str]) -> dict[str, int]:
        if not keys:
            return {}
        query = select(Person.key, Person.id).where(Person.key.in_(keys))
        known = dict(self.session.execute(query).all())
        missing = [{"key": key, "created_at": utcnow()} for key in keys - known.keys()]
        if missing:
            self.session.execute(insert(Person), missing)
            created = {m["key"] for m in missing}
            known = dict(self.session.execute(query).all())
            self.session.execute(insert(ImportUndo), [
                {"import_run_id": self.run_id, "person_id": known[key]} for key in created])
        return known

    def _replace_imported_topics(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        account_ids = {key: id_ for key, (id_, _seen) in self._stored(records).items()}
        keys = [(r["platform"], r["platform_id"]) for r in records]
        # Topics given by the import win over inferred ones (DESIGN.md).
        self.session.execute(delete(AccountTopic).where(
            AccountTopic.account_id.in_([account_ids[key] for key in keys])))
        self.session.execute(insert(AccountTopic), [
            {"account_id": account_ids[key], "topic_id": self.topic_ids[slug], "weight": weight,
             "source": "imported", "evidence": ["given by the import"]}
            for key, r in zip(keys, records, strict=True) for slug, weight in r["topics"].items()])
