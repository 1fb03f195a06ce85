"""Appending to the audit log, and linking its entries into a hash chain.

**Appending.** ``record()`` adds an entry to the caller's session like any
other row: the database gives it its id when it is flushed, and it goes in
*unsealed*, its ``seq``, ``prev_hash`` and ``hash`` NULL. Writers take no
lock for the log and never wait for each other because of it.

**The chain.** ``seal()`` links unsealed entries into the chain, after the
last entry linked: each gets the next ``seq``, the ``hash`` of the entry
before it in ``seq`` order as its ``prev_hash`` (:data:`GENESIS_HASH` for
the first) and its own ``hash``, ``sha256(prev_hash + canonical content)``
in hex (the format is at the end). The chain is in seal order, not id
order: ids are handed out when transactions insert, but transactions commit
in any order, so an entry may become visible after one with a higher id was
linked. Linking in id order would make every writer wait for the ones that
drew lower ids; in seal order an entry of a transaction still in progress is
simply invisible to a linker, and a later one links it.

**The lock.** Two linkers at once would both pick the same last entry as
predecessor: a fork. So one links at a time: on PostgreSQL under an advisory
lock on :data:`ADVISORY_LOCK_KEY`, held until the linker's transaction ends;
on SQLite under the one writer's lock every write transaction holds
(``BEGIN IMMEDIATE``, :mod:`meetings.database`). A READ COMMITTED statement
run after the lock is granted sees every earlier linker's commit, so each
linker goes on where the last one stopped. Should a fork happen all the same,
the unique ``seq`` and ``prev_hash`` turn it into an error.

**Who links.** A ``before_commit`` hook: a session that recorded entries in
its transaction links the backlog (its own entries, and those others
committed unsealed) just before it commits, unless another transaction holds
the lock at that moment (PostgreSQL; it does not wait, that one or the next
will link them). ``flask --app wsgi audit seal`` waits for the lock and links
whatever is left; ``audit verify`` walks the chain in ``seq`` order and counts
the entries not linked yet, which are not an error.

**The format** (frozen: migration ``0007_integrity`` keeps a copy): the
canonical content is the JSON of the entry's ``id``, ``at`` (ISO 8601, UTC,
in microseconds), ``actor_id``, ``action``, ``object_type``, ``object_id``
and ``data``, with sorted keys, no spaces and non-ASCII text as is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, event, select, text, update
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from auth.models import User
from meetings.audit.models import GENESIS_HASH, AuditEntry
from meetings.dbtypes import utcnow
from meetings.extensions import db

# pg_advisory_xact_lock key serialising the linkers: "SHLGAUDT" in ASCII
ADVISORY_LOCK_KEY = 0x53484C4741554454
# How many entries one call of ``seal`` links at most.
SEAL_BATCH = 1000
# ``session.info`` key: the session's transaction recorded entries.
_RECORDED = "shangliang_audit_recorded"


def record(actor: User | None, action: str, obj: Any, **data: Any) -> AuditEntry:
    """Append an audit entry in the caller's transaction; it is linked into
    the chain when the transaction commits (or by a later one)."""
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        # Read through the instance: ``obj`` may be flask-login's
        # ``current_user``, a proxy whose type is not the model's.
        object_type=obj.__tablename__,
        object_id=obj.id,
        # as it will read back from the JSON column, so the hash matches then
        data=json.loads(json.dumps(data)),
    )
    session = db.session()
    session.add(entry)
    session.info[_RECORDED] = True
    return entry


def seal(connection: Connection, wait: bool, *, batch: int = SEAL_BATCH) -> int | None:
    """Link the unsealed entries this transaction sees (committed, or its
    own), in id order and at most ``batch`` of them, after the last linked
    entry; return how many. Takes the linkers' lock first (PostgreSQL),
    waiting for it when ``wait``, else returning None if another transaction
    holds it. The lock is held until the transaction ends: commit soon. Run
    it at READ COMMITTED (the default), so that it reads after the lock."""
    if connection.dialect.name == "postgresql":
        if wait:
            connection.execute(_LOCK, {"key": ADVISORY_LOCK_KEY})
        elif not connection.execute(_TRY_LOCK, {"key": ADVISORY_LOCK_KEY}).scalar_one():
            return None
    # SQLite: this write transaction holds the one writer's lock already.
    last = connection.execute(_LAST_LINKED).first()
    seq, prev_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    links = []
    for entry in connection.execute(_UNSEALED, {"batch": batch}):
        seq += 1
        digest = entry_hash(prev_hash, content_of(entry))
        links.append(
            {"entry_id": entry.id, "new_seq": seq, "new_prev": prev_hash, "new_hash": digest}
        )
        prev_hash = digest
    if links:
        connection.execute(_LINK, links)
    return len(links)


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    """A session committing entries it recorded links the backlog first, if
    no other transaction is linking (``before_commit`` fires for savepoints
    too: only the outermost commit links)."""
    if session.in_nested_transaction() or not session.info.get(_RECORDED):
        return
    session.flush()
    seal(session.connection(), wait=False)


@event.listens_for(Session, "after_transaction_end")
def _forget_recorded(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed, rolled back or closed
        session.info.pop(_RECORDED, None)


_audit = AuditEntry.__table__
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_LAST_LINKED = (
    select(_audit.c.seq, _audit.c.hash)
    .where(_audit.c.seq.is_not(None))
    .order_by(_audit.c.seq.desc())
    .limit(1)
)
# Only entries with all three NULL: a row with a hash and no seq can only
# come from someone going round the triggers, and ``verify_chain`` names it.
_IS_UNSEALED = (
    _audit.c.seq.is_(None),
    _audit.c.prev_hash.is_(None),
    _audit.c.hash.is_(None),
)
_UNSEALED = select(_audit).where(*_IS_UNSEALED).order_by(_audit.c.id).limit(bindparam("batch"))
_LINK = (
    update(_audit)
    .where(_audit.c.id == bindparam("entry_id"), *_IS_UNSEALED)
    .values(seq=bindparam("new_seq"), prev_hash=bindparam("new_prev"), hash=bindparam("new_hash"))
)


def canonical_content(
    entry_id: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    data: Any,
) -> str:
    """The text an entry's hash covers (after its predecessor's hash)."""
    return json.dumps(
        {
            "id": entry_id,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def content_of(entry: Any) -> str:
    """Canonical content of an ``AuditEntry`` or a row with the same columns."""
    return canonical_content(
        entry.id,
        entry.at,
        entry.actor_id,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.data,
    )


def entry_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8", "surrogatepass")).hexdigest()


# --- checking the chain -----------------------------------------------------------------


@dataclass
class ChainReport:
    """What ``verify_chain`` found: the entries that check out, in chain
    order, and the first one that does not, with what is wrong with it."""

    count: int = 0
    unsealed: int = 0  # entries not linked yet
    last_id: int | None = None
    last_hash: str | None = None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(
    bind: Connection | Session | scoped_session | None = None, batch: int = 1000
) -> ChainReport:
    """Walk the chain in ``seq`` order, checking each link and each entry's
    hash (through ``bind``, by default the app's session), then count the
    entries not linked yet."""
    bind = bind if bind is not None else db.session
    report = ChainReport()
    expected_prev = GENESIS_HASH
    for row in _rows(bind, _CHAIN, batch):
        if row.prev_hash != expected_prev:
            before = f"entry {report.last_id}" if report.last_id is not None else "the start"
            report.broken_id = row.id
            report.problem = (
                f"its prev_hash does not match the hash of {before}: an entry was removed, "
                "inserted or rewritten at this point"
            )
            return report
        if row.hash != entry_hash(row.prev_hash, content_of(row)):
            report.broken_id = row.id
            report.problem = (
                "its content does not match its hash: it was changed after it was written"
            )
            return report
        report.count += 1
        report.last_id = row.id
        report.last_hash = row.hash
        expected_prev = row.hash
    for row in _rows(bind, _NOT_IN_CHAIN, batch):
        if row.prev_hash is not None or row.hash is not None:
            report.broken_id = row.id
            report.problem = "it has a hash but no place (seq) in the chain: it was taken out of it"
            return report
        report.unsealed += 1
    return report


_CHAIN = select(_audit).where(_audit.c.seq.is_not(None)).order_by(_audit.c.seq)
_NOT_IN_CHAIN = select(_audit).where(_audit.c.seq.is_(None)).order_by(_audit.c.id)


def _rows(
    bind: Connection | Session | scoped_session, statement: Select, batch: int
) -> Iterator[Any]:
    result = bind.execute(statement.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()
