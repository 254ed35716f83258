"""Take a failed import back out: every batch of an import records in `import_undo` what it
changed (the earlier values of updated accounts and their imported topics, the people it
created; inserted accounts carry the run's id), and `undo_import` restores it all, in short
transactions like the import itself."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, delete, insert, select, update
from sqlmodel import Session

from perks.accounts.lists import drop_import_members
from perks.models import Account, AccountTopic, ImportUndo, Person

ACCOUNT = Account.__table__
UNDO_CHUNK = 2000


def undo_import(session: Session, run_id: int | None) -> None:
    """Take back out what import run `run_id` wrote: restore the accounts it updated, delete
    the accounts and people it created, the list memberships it added. In short transactions,
    like the import itself."""
    undo = ImportUndo.__table__
    drop_import_members(session, run_id)
    session.commit()
    datetimes = {c.name for c in ACCOUNT.c if _is_datetime(c.type)}
    last = 0
    while True:
        rows = session.execute(
            select(undo.c.id, undo.c.account_id, undo.c.before)
            .where(undo.c.import_run_id == run_id, undo.c.id > last, undo.c.account_id.is_not(None))
            .order_by(undo.c.id).limit(UNDO_CHUNK)).all()
        if not rows:
            break
        last = rows[-1].id
        for _id, account_id, before in rows:
            values = {k: (datetime.fromisoformat(v) if k in datetimes and v else v)
                      for k, v in before.items() if k != "topics"}
            session.execute(update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(values))
            if before.get("topics") is not None:
                session.execute(delete(AccountTopic).where(
                    AccountTopic.account_id == account_id, AccountTopic.source == "imported"))
                if before["topics"]:
                    session.execute(insert(AccountTopic), [
                        {"account_id": account_id, "topic_id": t, "weight": w,
                         "source": "imported", "evidence": e} for t, w, e in before["topics"]])
        session.commit()
    while True:
        ids = session.execute(select(ACCOUNT.c.id).where(ACCOUNT.c.import_run_id == run_id)
                              .limit(UNDO_CHUNK)).scalars().all()
        if not ids:
            break
        session.execute(delete(ACCOUNT).where(ACCOUNT.c.id.in_(ids)))
        session.commit()
    people = session.execute(select(undo.c.person_id).where(
        undo.c.import_run_id == run_id, undo.c.person_id.is_not(None))).scalars().all()
    for start in range(0, len(people), UNDO_CHUNK):
        session.execute(delete(Person).where(Person.id.in_(people[start:start + UNDO_CHUNK])))
        session.commit()
    drop_undo(session, run_id)


def _is_datetime(column_type: Any) -> bool:
    return isinstance(getattr(column_type, "impl_instance", column_type), DateTime)


def drop_undo(session: Session, run_id: int | None) -> None:
    undo = ImportUndo.__table__
    while True:
        ids = session.execute(select(undo.c.id).where(undo.c.import_run_id == run_id)
                              .limit(5 * UNDO_CHUNK)).scalars().all()
        if not ids:
            return
        session.execute(delete(undo).where(undo.c.id.in_(ids)))
        session.commit()
