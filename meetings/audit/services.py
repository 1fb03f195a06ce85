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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, event, func, select, text, update
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


@dataclass(frozen=True)
class Checkpoint:
    """The last entry a check found sound: where the next check may start."""

    seq: int
    entry_id: int
    hash: str


@dataclass
class ChainReport:
    """What ``verify_chain`` found: the entries that check out, in chain
    order, and the first one that does not, with what is wrong with it.
    ``count`` is what this check read: the entries after ``since`` when it
    went on from a checkpoint, else all."""

    count: int = 0
    unsealed: int = 0  # entries not linked yet
    since: Checkpoint | None = None
    last_id: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def checkpoint(self) -> Checkpoint | None:
        """Where the chain checked out to, for the next check to go on from."""
        if not self.ok or self.last_seq is None:
            return None
        return Checkpoint(self.last_seq, self.last_id, self.last_hash)


def verify_chain(
    bind: Connection | Session | scoped_session | None = None,
    batch: int = 1000,
    *,
    since: Checkpoint | None = None,
    progress: Callable[[ChainReport], None] | None = None,
    every: int = 100_000,
) -> ChainReport:
    """Walk the chain in ``seq`` order, checking each link and each entry's
    hash (through ``bind``, by default the app's session), then count the
    entries not linked yet.

    From a checkpoint (``since``, an earlier check's ``report.checkpoint``)
    only the entries after it are read, once the entry at its place is
    found to be the one that was checked (same id, same hash): what was
    added since is checked in seconds, however long the log. A change
    before the checkpoint is found only by walking from the start.
    ``progress(report)`` is called after every ``every`` entries."""
    bind = bind if bind is not None else db.session
    report = ChainReport(since=since)
    expected_prev = GENESIS_HASH
    chain = _CHAIN
    if since is not None:
        held = bind.execute(_AT_SEQ, {"seq": since.seq}).first()
        if held is None or held.id != since.entry_id or held.hash != since.hash:
            report.broken_id = held.id if held is not None else since.entry_id
            report.problem = (
                f"the chain no longer holds the entry checked last time at place {since.seq} "
                f"(entry {since.entry_id}, hash {since.hash}): the log was cut or rewritten, or "
                "the database was restored from an older backup (then check it all: --full)"
            )
            return report
        expected_prev = since.hash
        report.last_id, report.last_seq, report.last_hash = since.entry_id, since.seq, since.hash
        chain = _CHAIN.where(_audit.c.seq > since.seq)
    for row in _rows(bind, chain, batch):
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
        report.last_seq = row.seq
        report.last_hash = row.hash
        expected_prev = row.hash
        if progress is not None and report.count % every == 0:
            progress(report)
    for row in _rows(bind, _NOT_IN_CHAIN, batch):
        if row.prev_hash is not None or row.hash is not None:
            report.broken_id = row.id
            report.problem = "it has a hash but no place (seq) in the chain: it was taken out of it"
            return report
        report.unsealed += 1
    return report


def chain_length(bind: Connection | Session | scoped_session | None = None) -> int:
    """The place of the last linked entry: how many a check from the start reads."""
    bind = bind if bind is not None else db.session
    return bind.execute(select(func.max(_audit.c.seq))).scalar() or 0


_CHAIN = select(_audit).where(_audit.c.seq.is_not(None)).order_by(_audit.c.seq)
_NOT_IN_CHAIN = select(_audit).where(_audit.c.seq.is_(None)).order_by(_audit.c.id)
_AT_SEQ = select(_audit.c.id, _audit.c.hash).where(_audit.c.seq == bindparam("seq"))


def _rows(
    bind: Connection | Session | scoped_session, statement: Select, batch: int
) -> Iterator[Any]:
    result = bind.execute(statement.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()
