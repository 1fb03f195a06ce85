"""Appending to the audit log, and checking its hash chain.

An entry's ``hash`` is ``sha256(prev_hash + canonical content)`` in hex, where
the canonical content is the JSON of its ``id``, ``at`` (ISO 8601, UTC, in
microseconds), ``actor_id``, ``action``, ``object_type``, ``object_id`` and
``data``, with sorted keys, no spaces and non-ASCII text as is
(:func:`canonical_content`). ``prev_hash`` is the hash of the entry with the
next lower id, or :data:`GENESIS_HASH` for the first.

The id is part of the content, so it is chosen *before* the INSERT.
``record()`` adds the entry to the session; its id and, when it can be, its
link (``prev_hash`` and ``hash``) are given just before it is flushed
(``_link_new_entries``, a ``before_flush`` hook), usually at the commit.
Links are made by one transaction at a time, in id order, so the chain
cannot fork (and the UNIQUE ``prev_hash`` would turn a fork into an error):

* SQLite: ``BEGIN IMMEDIATE`` (``meetings.database``) holds the one write lock
  from the start of the transaction; the id is the last one + 1, what SQLite
  would pick, and the entry is inserted linked. No UPDATE, ever.
* PostgreSQL: writers must not wait for each other at every commit (a burst
  of ballots would go one fsync at a time, and a poll's close would wait
  behind all of them), so linking is decoupled from inserting with an
  advisory lock on :data:`ADVISORY_LOCK_KEY`, held until the transaction
  ends. A writer first *tries* it exclusively. If it gets it, no other
  writer is between its flush and its commit: it links, in id order, the
  entries others inserted unsealed (one UPDATE for them all) and then its
  own, which it inserts linked. If it does not, it takes the lock shared and
  inserts its entries unsealed (``prev_hash`` and ``hash`` NULL) without
  waiting. Ids come from the sequence after the lock is held, so an entry
  committed later never has a lower id than one already linked. The next
  writer that finds itself alone, or ``flask --app wsgi audit seal`` (which
  waits for the lock), links the backlog: usually within moments.

The triggers refuse every UPDATE of an audit entry except that one-time
sealing of an unsealed one, which changes nothing else. ``audit verify``
checks the linked entries and counts the unsealed ones after them.

On PostgreSQL the lock is tried, taken and the ids drawn in one statement.
The cost per flush holding new entries is then that statement, plus, when
this transaction links (always on SQLite), one SELECT (the last linked entry
and any unsealed after it, by the primary key) and, for a backlog, the
UPDATEs that link it (one statement on PostgreSQL), besides the INSERTs.
``append`` writes one entry at once, without an ORM object, for a hot path:
on PostgreSQL, when other writers are about, the statement that tries the
lock inserts the entry unsealed too, one statement in all. The hottest path
(a ballot on PostgreSQL, one statement that is its own transaction) appends
with ``unsealed_entry_ctes``: always unsealed, under the shared lock, and
every ``SEAL_EVERY`` ids it links the backlog afterwards if no other writer
is between its flush and its commit (``seal_now_and_then``). Nothing is
cached across transactions.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import Session, scoped_session

from auth.models import User
from meetings.audit.models import GENESIS_HASH, AuditEntry
from meetings.dbtypes import utcnow
from meetings.extensions import db

# pg_advisory_xact_lock key serialising appends: "SHLGAUDT" in ASCII
ADVISORY_LOCK_KEY = 0x53484C4741554454


def record(actor: User | None, action: str, obj: Any, **data: Any) -> AuditEntry:
    """Append an audit entry in the caller's transaction (linked into the
    chain when it is flushed)."""
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
    entry.recorded = next(_RECORDED)  # the order of the calls, for the links
    db.session.add(entry)
    return entry


_RECORDED = itertools.count()


@event.listens_for(Session, "before_flush")
def _link_new_entries(session: Session, flush_context: Any, instances: Any) -> None:
    """Give the entries about to be inserted their ids, and link them into
    the chain when this transaction may (see the module's docstring)."""
    new = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    fresh = sorted((e for e in new if e.id is None), key=lambda e: getattr(e, "recorded", 0))
    if not fresh:
        return
    connection = session.connection()
    alone, ids, tail = _claim_ids(connection, len(fresh), [e.id for e in new if e.id is not None])
    _give_ids(fresh, ids)
    if alone:
        _seal(connection, [e for e in new if e.hash is None], tail)


def append(
    actor_id: int | None, action: str, object_type: str, object_id: int | None, **data: Any
) -> None:
    """Append an audit entry now, with Core statements on the session's
    connection instead of an ORM object: ``record()`` for a hot path. The
    entry is linked, or goes in unsealed, as ``record()``'s would; entries
    recorded before it in the session are flushed first, so the order stays
    that of the calls."""
    session = db.session()
    session.flush()
    connection = session.connection()
    values = {
        "at": utcnow(),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        # as it will read back from the JSON column, so the hash matches then
        "data": json.loads(json.dumps(data)) if data else {},
    }
    if connection.dialect.name == "postgresql":
        # One round trip when other writers are about: the entry goes in
        # unsealed in the statement that finds it cannot be linked now.
        claimed = connection.execute(_LOCK_OR_INSERT, {"key": ADVISORY_LOCK_KEY, **values}).one()
        if not claimed.alone:
            return
        entry, tail = _NewEntry(id=claimed.id, **values), None
    else:
        _alone, ids, tail = _claim_ids(connection, 1)
        entry = _NewEntry(id=ids[0], **values)
    _seal(connection, [entry], tail)
    connection.execute(_INSERT, vars(entry))


@dataclass
class _NewEntry:
    """An entry about to be inserted by ``append``, as ``_seal`` links it."""

    id: int
    at: datetime
    actor_id: int | None
    action: str
    object_type: str
    object_id: int | None
    data: Any
    prev_hash: str | None = None
    hash: str | None = None


def _claim_ids(
    connection: Connection, count: int, taken: Iterable[int] = ()
) -> tuple[bool, list[int], _Tail | None]:
    """Ids for ``count`` new entries, and whether this transaction links
    them (with the end of the log it links them to, on SQLite). ``taken``:
    ids given to entries of this session not inserted yet."""
    if connection.dialect.name == "postgresql":
        # One round trip: try the lock exclusively, else take it shared
        # (other writers are between their flush and their commit: go in
        # unsealed, without waiting; a later transaction links these), then
        # draw the ids, after the lock is held.
        rows = connection.execute(_LOCK_AND_IDS, {"key": ADVISORY_LOCK_KEY, "n": count}).all()
        return rows[0].alone, sorted(row.id for row in rows), None
    # SQLite: BEGIN IMMEDIATE, this transaction is the only writer.
    tail = _tail(connection)
    last_id = tail.last_id if tail.last_id is not None else connection.execute(_LAST_ID).scalar()
    known = max([last_id or 0, *taken])
    return True, list(range(known + 1, known + 1 + count)), tail


def _give_ids(entries: list[AuditEntry], ids: Iterable[int]) -> None:
    for entry, entry_id in zip(entries, sorted(ids), strict=True):
        entry.id = entry_id


def seal_pending(connection: Connection, wait: bool = True) -> int | None:
    """Link the entries that went in unsealed (PostgreSQL, under concurrent
    writers), after waiting for the writers in progress to commit; with
    ``wait=False`` only if none is in progress (else None). Returns how many
    were linked; run it in a transaction of its own (``audit seal``)."""
    if connection.dialect.name == "postgresql":
        if not wait:
            if not connection.execute(_TRY_EXCLUSIVE, {"key": ADVISORY_LOCK_KEY}).scalar():
                return None
        else:
            connection.execute(_EXCLUSIVE, {"key": ADVISORY_LOCK_KEY})
    total = 0
    while True:
        tail = _tail(connection)
        total += _seal(connection, [], tail)
        if not tail.more:
            return total


@dataclass
class _Tail:
    """The end of the log: the last linked entry and the unsealed ones after it."""

    sealed: Any  # the last linked row, or None
    backlog: list[Any]  # at most SEAL_BATCH unsealed rows, in id order
    more: bool  # there are more unsealed rows than that

    @property
    def last_id(self) -> int | None:
        """The highest id in the log, when known from these rows."""
        if self.more:
            return None
        last = self.backlog[-1] if self.backlog else self.sealed
        return last.id if last is not None else None


def _tail(connection: Connection) -> _Tail:
    rows = connection.execute(_TAIL_AND_UNSEALED, {"limit": SEAL_BATCH + 2}).all()
    sealed = rows[0] if rows and rows[0].hash is not None else None
    backlog = [row for row in rows if row.hash is None]
    return _Tail(sealed, backlog[:SEAL_BATCH], more=len(backlog) > SEAL_BATCH)


def _seal(connection: Connection, in_session: list[Any], tail: _Tail | None = None) -> int:
    """Link, in id order, the unsealed entries in the database and those about
    to be inserted (``in_session``, their ids given); returns how many. Every
    unsealed entry in the database is committed or this transaction's: the
    caller holds the exclusive lock (PostgreSQL) or the write lock (SQLite).
    When the backlog is longer than one batch, the entries in the session
    wait behind it, unsealed."""
    tail = _tail(connection) if tail is None else tail
    if tail.more:
        in_session = []
    prev_hash = tail.sealed.hash if tail.sealed is not None else GENESIS_HASH
    updates = []
    for item in sorted([*tail.backlog, *in_session], key=lambda e: e.id):
        digest = entry_hash(prev_hash, content_of(item))
        if isinstance(item, AuditEntry | _NewEntry):
            item.prev_hash, item.hash = prev_hash, digest
        else:
            updates.append({"entry_id": item.id, "prev": prev_hash, "digest": digest})
        prev_hash = digest
    if updates and connection.dialect.name == "postgresql":
        # One statement for the whole backlog (it may hold hundreds of
        # entries after a burst), rather than one UPDATE each.
        columns = {key: [update[key] for update in updates] for key in updates[0]}
        connection.execute(_SEAL_ROWS, columns)
    elif updates:
        connection.execute(_SEAL_ROW, updates)
    return len(tail.backlog) + len(in_session)


# How many unsealed entries one transaction links at most.
SEAL_BATCH = 1000
# A statement appending unsealed entries on its own (``UNSEALED_ENTRY_CTES``)
# has every this many of them linked (``seal_now_and_then``).
SEAL_EVERY = 50


def unsealed_entry_ctes(
    source: str, *, actor: str, action: str, object_type: str, object_id: str, at: str
) -> str:
    """SQL of two CTEs (``audit_lock``, ``audit``) for a PostgreSQL statement
    that is a transaction of its own (autocommit, a hot path): for each row of
    ``source`` (a FROM list of the caller's CTEs), append one entry unsealed,
    its id drawn after the shared lock is held, as a writer that is not alone
    does; the ``audit`` CTE returns its ``id``, ``actor_id`` and ``object_id``. ``actor``,
    ``object_id`` and ``at`` are SQL expressions over ``source`` or the
    statement's parameters; ``action`` and ``object_type`` go into the SQL as
    literals (with the lock's key: a hot statement dumps fewer parameters),
    and the entry carries no data. Such a statement cannot link: call
    ``seal_now_and_then`` with the id afterwards. Every argument is the
    caller's own SQL or name, never input."""
    for name in (action, object_type):
        if not _PLAIN_NAME.fullmatch(name):
            raise ValueError(f"not a plain name for an SQL literal: {name!r}")
    return f"""
    audit_lock AS MATERIALIZED (
        SELECT {actor} AS actor_id, {object_id} AS object_id,
               pg_advisory_xact_lock_shared({ADVISORY_LOCK_KEY:d}) IS NULL AS held
        FROM {source}
    ), audit AS (
        INSERT INTO audit_entry (id, at, actor_id, action, object_type, object_id, data)
        SELECT nextval('audit_entry_id_seq'), {at}, audit_lock.actor_id, '{action}',
               '{object_type}', audit_lock.object_id, CAST('{{}}' AS JSON)
        FROM audit_lock
        RETURNING id, actor_id, object_id
    )"""  # noqa: S608


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_.]*")


def seal_now_and_then(entry_id: int | None) -> None:
    """After a statement of its own appended the unsealed entry ``entry_id``:
    every ``SEAL_EVERY`` ids, link the backlog in the session's transaction
    (the caller commits), if no other writer is between its flush and its
    commit; else a later writer, the next due one or ``audit seal`` will.
    Keeps the backlog short under a burst of ballots at the cost of one
    short transaction per ``SEAL_EVERY`` entries."""
    if entry_id is None or entry_id % SEAL_EVERY:
        return
    seal_pending(db.session.connection(), wait=False)


_audit = AuditEntry.__table__
_INSERT = insert(_audit)

# The lock is taken once (a materialised CTE), before any ``nextval``; the
# shared one only when the exclusive one was not to be had (CASE evaluates
# its branches lazily).
_LOCK_AND_IDS = text(
    """
    WITH lock AS MATERIALIZED (
        SELECT CASE WHEN pg_try_advisory_xact_lock(:key) THEN true
                    ELSE (SELECT false FROM pg_advisory_xact_lock_shared(:key)) END AS alone
    )
    SELECT lock.alone, nextval('audit_entry_id_seq') AS id
    FROM lock, generate_series(1, :n)
    """
)
# ``append`` on PostgreSQL: the lock as above; unless this transaction holds
# it alone, the entry goes in unsealed, with its id drawn after the lock;
# else an id for it is returned, to link it first.
_LOCK_OR_INSERT = text(
    """
    WITH lock AS MATERIALIZED (
        SELECT CASE WHEN pg_try_advisory_xact_lock(:key) THEN true
                    ELSE (SELECT false FROM pg_advisory_xact_lock_shared(:key)) END AS alone
    ), unsealed AS (
        INSERT INTO audit_entry (id, at, actor_id, action, object_type, object_id, data)
        SELECT nextval('audit_entry_id_seq'), :at, :actor_id, :action, :object_type,
               :object_id, :data
        FROM lock WHERE NOT lock.alone
    )
    SELECT lock.alone, CASE WHEN lock.alone THEN nextval('audit_entry_id_seq') END AS id
    FROM lock
    """
).bindparams(
    bindparam("at", type_=_audit.c.at.type),
    bindparam("actor_id", type_=_audit.c.actor_id.type),
    bindparam("action", type_=_audit.c.action.type),
    bindparam("object_type", type_=_audit.c.object_type.type),
    bindparam("object_id", type_=_audit.c.object_id.type),
    bindparam("data", type_=_audit.c.data.type),
)
_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(:key)")
_TRY_EXCLUSIVE = text("SELECT pg_try_advisory_xact_lock(:key)")
_LAST_ID = text("SELECT max(id) FROM audit_entry")
_TAIL_AND_UNSEALED = (
    select(_audit)
    .where(
        _audit.c.id
        >= func.coalesce(
            select(_audit.c.id)
            .where(_audit.c.hash.is_not(None))
            .order_by(_audit.c.id.desc())
            .limit(1)
            .scalar_subquery(),
            0,
        )
    )
    .order_by(_audit.c.id)
    .limit(bindparam("limit"))
)
_SEAL_ROWS = text(
    """
    UPDATE audit_entry SET prev_hash = linked.prev, hash = linked.digest
    FROM unnest(CAST(:entry_id AS INTEGER[]), CAST(:prev AS VARCHAR[]), CAST(:digest AS VARCHAR[]))
        AS linked (entry_id, prev, digest)
    WHERE audit_entry.id = linked.entry_id AND audit_entry.hash IS NULL
    """
)
_SEAL_ROW = (
    update(_audit)
    .where(_audit.c.id == bindparam("entry_id"), _audit.c.hash.is_(None))
    .values(prev_hash=bindparam("prev"), hash=bindparam("digest"))
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
    """What ``verify_chain`` found: the entries that check out, in id order,
    and the first one that does not, with what is wrong with it."""

    count: int = 0
    unsealed: int = 0  # entries after the last linked one, not linked yet
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
    """Walk the log in id order, checking each link and each entry's hash
    (through ``bind``, by default the app's session). Unsealed entries may
    only follow the linked ones; they are counted, not checked."""
    report = ChainReport()
    expected_prev = GENESIS_HASH
    for row in _rows_in_order(bind if bind is not None else db.session, batch):
        if row.hash is None and row.prev_hash is None:
            report.unsealed += 1
            continue
        if report.unsealed:
            report.broken_id = row.id
            report.problem = "it is linked, but an entry before it is not"
            return report
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
    return report


def _rows_in_order(bind: Connection | Session | scoped_session, batch: int) -> Iterator[Any]:
    table = AuditEntry.__table__
    statement = select(table).order_by(table.c.id).execution_options(yield_per=batch)
    result = bind.execute(statement)
    try:
        yield from result
    finally:
        result.close()
